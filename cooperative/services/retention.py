"""How long personal data is kept, and the daily `coop purge` that removes it after.

- Guests (registrations without an account): their names, address and e-mails go
  `GUEST_DATA_DAYS` (90) after their event; what stays is anonymous (counts, amounts).
  So do the name and address of a guest who helped with a task (`purge_guest_slots`);
  the slot stays, as a count. The e-mails about a slot are not tied to it: they go with
  the outbox, long before.
- The outbox: an e-mail sent or given up on is deleted `OUTBOX_KEEP_DAYS` (30) after it
  left; its only use after that would be to answer "did my mail go out?". A mail still
  waiting to go is never deleted.
- Announcements: who got one is forgotten `NEWS_RECIPIENTS_DAYS` (90) after it was sent;
  the announcement stays, with what it said and to how many
  (`purge_announcement_recipients`).
- Former members (lapsed, or turned down): what they filled in for the membership goes
  `FORMER_MEMBER_DATA_DAYS` (730, two years) after they left; the member register stays
  (see `purge_former_members`).
- The member register: an entry (and an application turned down) is kept
  `REGISTER_KEEP_YEARS` (10) after the member left (art. 2:61 BW), then deleted
  (`purge_register`).
- SEPA mandates: an ended mandate (with the IBAN and signature date it holds) and its
  collections are kept `MANDATE_KEEP_YEARS` (7) after the mandate ended and after its
  last debit date: they are records of the books, which the fiscal retention duty
  (fiscale bewaarplicht, art. 52 AWR; art. 2:10 BW) asks to keep seven years; that also
  covers the 13 months in which a member may dispute a debit under the SEPA rules.
  Then they are deleted, and a dues run left without collections goes with its
  collection file (`purge_mandates`). The payments stay, as amounts.

Services flush; the caller commits.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import (
    Announcement,
    AnnouncementRecipient,
    Collection,
    CollectionRun,
    Event,
    MandateStatus,
    Membership,
    MembershipStatus,
    OutboxMessage,
    OutboxStatus,
    Payment,
    Registration,
    SepaMandate,
    Task,
    TaskSignup,
    User,
    utcnow,
)
from .privacy import anonymise_registration


def guest_data_days() -> int:
    """How many days after their event guests' names and addresses are kept."""
    return current_app.config["GUEST_DATA_DAYS"]


def outbox_keep_days() -> int:
    """How many days an e-mail is kept after it was sent (or given up on)."""
    return current_app.config["OUTBOX_KEEP_DAYS"]


def former_member_data_days() -> int:
    """How many days after leaving a former member's profile and notes are kept."""
    return current_app.config["FORMER_MEMBER_DATA_DAYS"]


def register_keep_years() -> int:
    """How many years after leaving a member register entry is kept."""
    return current_app.config["REGISTER_KEEP_YEARS"]


def mandate_keep_years() -> int:
    """How many years an ended mandate and its collections are kept."""
    return current_app.config["MANDATE_KEEP_YEARS"]


def years_before(now: datetime, years: int) -> datetime:
    return now - timedelta(days=365 * years + years // 4)  # leap days included


def purge_mandates(years: int | None = None, now: datetime | None = None) -> int:
    """Delete the mandates that ended more than `years` (MANDATE_KEEP_YEARS) ago and
    whose last collection was debited more than that long ago, with their collections;
    then the dues runs left without collections (and their collection files). Returns
    how many mandates. A mandate in force is never deleted, nor its collections."""
    now = now or utcnow()
    cutoff = years_before(now, mandate_keep_years() if years is None else years)
    recent = sa.select(Collection.id).where(
        Collection.mandate_id == SepaMandate.id, Collection.debit_date >= cutoff.date()
    )
    ids = list(
        db.session.scalars(
            sa.select(SepaMandate.id).where(
                SepaMandate.status == MandateStatus.ENDED,
                SepaMandate.ended_at.is_not(None),
                SepaMandate.ended_at < cutoff,
                ~sa.exists(recent),
            )
        )
    )
    if ids:
        db.session.execute(
            sa.delete(Collection).where(Collection.mandate_id.in_(ids)),
            execution_options={"synchronize_session": False},
        )
        db.session.execute(
            sa.delete(SepaMandate).where(SepaMandate.id.in_(ids)),
            execution_options={"synchronize_session": False},
        )
    db.session.execute(
        sa.delete(CollectionRun).where(
            CollectionRun.debit_date < cutoff.date(),
            ~sa.exists(sa.select(Collection.id).where(Collection.run_id == CollectionRun.id)),
        ),
        execution_options={"synchronize_session": False},
    )
    return len(ids)


def purge_register(years: int | None = None, now: datetime | None = None) -> int:
    """Delete the register entries and turned-down applications of people who left more
    than `years` (REGISTER_KEEP_YEARS) ago; return how many. Their payments stay as
    amounts without a link (the books have their own, shorter, term). An entry of a
    current member, or one without a day of leaving, is never deleted."""
    now = now or utcnow()
    keep = register_keep_years() if years is None else years
    cutoff = years_before(now, keep)
    old = sa.select(Membership.id).where(
        Membership.status.in_((MembershipStatus.LAPSED, MembershipStatus.CANCELLED)),
        Membership.left_at.is_not(None),
        Membership.left_at < cutoff,
    )
    ids = list(db.session.scalars(old))
    if not ids:
        return 0
    db.session.execute(
        sa.update(Payment).where(Payment.membership_id.in_(ids)).values(membership_id=None),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        sa.delete(Membership).where(Membership.id.in_(ids)),
        execution_options={"synchronize_session": False},
    )
    return len(ids)


def purge_guests(days: int | None = None, now: datetime | None = None) -> int:
    """Anonymise guests' registrations (no account) for events that ended more than
    `days` ago, e-mails about them included; return how many were anonymised.

    Registrations made with an account are left: their owner keeps or deletes them.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=guest_data_days() if days is None else days)
    rows = db.session.scalars(
        sa.select(Registration)
        .join(Registration.event)
        .where(
            Registration.user_id.is_(None),
            # Walk-ins at the door gave a name but no address.
            sa.or_(Registration.contact_email != "", Registration.contact_name != ""),
            Event.ends_at < cutoff,
        )
        .options(sa.orm.selectinload(Registration.attendees))
    ).all()
    for registration in rows:
        anonymise_registration(registration)
    db.session.flush()
    return len(rows)


def purge_guest_slots(days: int | None = None, now: datetime | None = None) -> int:
    """Remove the name and address of guests' volunteer slots (no account) in tasks of
    events that ended more than `days` (GUEST_DATA_DAYS) ago; return how many. The slot
    stays, so the event still counts who helped; slots of members are left (their
    owner keeps or deletes them, with the account)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=guest_data_days() if days is None else days)
    past_tasks = (
        sa.select(Task.id).join(Event, Task.event_id == Event.id).where(Event.ends_at < cutoff)
    )
    return db.session.execute(
        sa.update(TaskSignup)
        .where(
            TaskSignup.user_id.is_(None),
            sa.or_(TaskSignup.email != "", TaskSignup.guest_name != ""),
            TaskSignup.task_id.in_(past_tasks),
        )
        .values(guest_name="", email="")
        .execution_options(synchronize_session=False)
    ).rowcount


def purge_mail(days: int | None = None, now: datetime | None = None) -> int:
    """Delete the e-mails sent, or given up on, more than `days` (OUTBOX_KEEP_DAYS) ago;
    return how many. Refuses nothing, and never touches a mail still waiting to go."""
    now = now or utcnow()
    cutoff = now - timedelta(days=outbox_keep_days() if days is None else days)
    left_at = sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
    gone = sa.select(OutboxMessage.id).where(
        OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED)),
        left_at < cutoff,
    )
    # An announcement's recipient keeps no link to a mail that is gone (SQLite does not
    # apply ON DELETE SET NULL, and may give the id to a new mail).
    db.session.execute(
        sa.update(AnnouncementRecipient)
        .where(AnnouncementRecipient.outbox_message_id.in_(gone))
        .values(outbox_message_id=None),
        execution_options={"synchronize_session": False},
    )
    return db.session.execute(
        sa.delete(OutboxMessage).where(OutboxMessage.id.in_(gone)),
        execution_options={"synchronize_session": False},
    ).rowcount


def news_recipients_days() -> int:
    """How many days after an announcement was sent who got it is kept."""
    return current_app.config["NEWS_RECIPIENTS_DAYS"]


def purge_announcement_recipients(days: int | None = None, now: datetime | None = None) -> int:
    """Forget who got the announcements sent more than `days` (NEWS_RECIPIENTS_DAYS) ago;
    return how many recipients were forgotten. The announcements stay, with their text,
    audience, times and `recipient_count`."""
    now = now or utcnow()
    cutoff = now - timedelta(days=news_recipients_days() if days is None else days)
    old = sa.select(Announcement.id).where(Announcement.sent_at < cutoff)
    return db.session.execute(
        sa.delete(AnnouncementRecipient).where(AnnouncementRecipient.announcement_id.in_(old)),
        execution_options={"synchronize_session": False},
    ).rowcount


def purge_former_members(days: int | None = None, now: datetime | None = None) -> int:
    """Remove what former members filled in, `days` (FORMER_MEMBER_DATA_DAYS) after they
    left; return how many former members had something removed.

    A former member is one whose membership lapsed, or whose application was turned
    down, and who has not come back (`Membership.left_at` is set). Removed: the whole
    profile (name on the profile, neighbourhood, about me, interests, what they offer,
    who may see it, the newsletter wish), the note with the board's decision, and an
    e-mail address change still waiting for its confirmation.

    Kept, because the law asks for it:
    - the member register (Dutch Civil Code, Boek 2 art. 61: the names and addresses of
      the members): the account's name and e-mail address (the only address we hold),
      the member number and the plan; with `started_at` and `left_at`, because former
      members stay liable for a deficit when the cooperative is wound up within a year
      after they left (art. 2:55), so who was a member when must stay answerable;
    - payments, as amounts with their dates: the books are kept seven years (art. 2:10
      BW, art. 52 AWR).
    The account itself stays, so the person can still log in, register for events and
    see or delete their data; deleting the account removes the rest
    (`privacy.delete_account`). Someone who joins again starts a new profile.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=former_member_data_days() if days is None else days)
    rows = db.session.scalars(
        sa.select(Membership)
        .where(
            Membership.status.in_((MembershipStatus.LAPSED, MembershipStatus.CANCELLED)),
            Membership.left_at < cutoff,
        )
        .options(sa.orm.joinedload(Membership.user).joinedload(User.profile))
    ).all()
    purged = 0
    for membership in rows:
        user = membership.user
        if user is None:  # the account was deleted: only the register is left
            continue
        if user.profile is None and not membership.decision_note and not user.pending_email:
            continue  # nothing left to remove (an earlier purge)
        user.profile = None  # the profile and its interests are deleted (delete-orphan)
        membership.decision_note = ""
        user.pending_email = None
        purged += 1
    db.session.flush()
    return purged
