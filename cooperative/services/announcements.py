"""Announcements: who may write to whom, who gets one, and sending it through the outbox.

Audiences (`Audience`, written `domain-3`, `collective-5`, `event-7` in a form):

- a domain: the people who chose it as an interest *and* asked for news
  (`Profile.newsletter`), with a confirmed address. Admins only.
- a collective: the people who follow it (`Profile.followed_collectives`) and asked for
  news, with a confirmed address. Admins, and the collective's organisers.
- an upcoming published event: the parties registered for it (confirmed, or paying),
  each address once, except those who stopped its announcements. They registered, so
  this is a service message about their evening, as pretix treats mail to attendees: no
  opt-in is asked. It still carries a one-click unsubscribe, for that event's
  announcements. Admins, and the organisers of the event's collective.

Every mail carries `List-Unsubscribe` (its own signed link, services/unsubscribe.py) and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), and links to the
preferences. The mails leave at a measured rate: the n-th one is held in the outbox until
`n // NEWS_PER_MINUTE` minutes after sending (`OutboxMessage.next_attempt_at`), so the
worker's ordinary outbox run spreads a large announcement out, and mail about
registrations in between is not stuck behind it. Who got it is kept
NEWS_RECIPIENTS_DAYS (`services.retention.purge_announcement_recipients`); how many, for
good. Services flush; the caller commits.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..ids import row_id
from ..locking import lock_author
from ..models import (
    HOLDING,
    Announcement,
    AnnouncementRecipient,
    AudienceKind,
    Collective,
    Domain,
    Event,
    EventStatus,
    OutboxMessage,
    Profile,
    Registration,
    User,
    utcnow,
)
from ..models.membership import profile_collectives, profile_interests
from ..paging import one_page
from ..refusals import Refused
from . import unsubscribe
from .mail import external_url, queue_mail
from .meeting_minutes import render as render_markdown

log = logging.getLogger(__name__)

# The same subject to the same audience by the same person within this time: a double click.
REPEAT_WINDOW = timedelta(minutes=10)
SUBJECT_MAX = 200
BODY_MAX = 20000
LIST_PAGE_SIZE = 50


@dataclass(frozen=True)
class Audience:
    """Whom an announcement is for: `kind` and the domain, collective or event."""

    kind: AudienceKind
    target: Domain | Collective | Event

    @property
    def value(self) -> str:
        return f"{self.kind.value}-{self.target.id}"

    def name(self, locale: str) -> str:
        if self.kind == AudienceKind.DOMAIN:
            return self.target.name(locale)
        if self.kind == AudienceKind.COLLECTIVE:
            return self.target.name
        return self.target.title

    @property
    def collective_id(self) -> int | None:
        """The collective in charge of this audience (None: a domain, admins only)."""
        if self.kind == AudienceKind.COLLECTIVE:
            return self.target.id
        if self.kind == AudienceKind.EVENT:
            return self.target.collective_id
        return None


@dataclass(frozen=True)
class Recipient:
    """One person an announcement goes to: a member (`user`) or a party (`registration`)."""

    email: str
    name: str
    locale: str
    user: User | None = None
    registration: Registration | None = None


def may_send(user: User, audience: Audience) -> bool:
    """Whether `user` may write to `audience`: admins to any; an organiser to their own
    collectives and their events; nobody to a domain but admins."""
    if user.is_admin:
        return True
    collective_id = audience.collective_id
    return collective_id is not None and collective_id in user.managed_collective_ids


def upcoming_events(now: datetime | None = None) -> sa.Select:
    """Published events that have not started: the ones an announcement may be about."""
    return (
        sa.select(Event)
        .where(Event.status == EventStatus.PUBLISHED, Event.starts_at > (now or utcnow()))
        .order_by(Event.starts_at, Event.id)
    )


def audiences_for(user: User, now: datetime | None = None) -> list[Audience]:
    """Every audience `user` may write to, domains first, then collectives, then events."""
    collectives = sa.select(Collective).order_by(sa.func.lower(Collective.name), Collective.id)
    events = upcoming_events(now)
    found: list[Audience] = []
    if user.is_admin:
        domains = db.session.scalars(sa.select(Domain).order_by(Domain.position, Domain.id))
        found += [Audience(AudienceKind.DOMAIN, domain) for domain in domains]
    else:
        managed = user.managed_collective_ids
        collectives = collectives.where(Collective.id.in_(managed))
        events = events.where(Event.collective_id.in_(managed))
    found += [Audience(AudienceKind.COLLECTIVE, c) for c in db.session.scalars(collectives)]
    found += [Audience(AudienceKind.EVENT, event) for event in db.session.scalars(events)]
    return found


def find_audience(value: str, now: datetime | None = None) -> Audience | None:
    """The audience written as `value` (`event-7`), or None when there is no such thing,
    or the event is not upcoming."""
    kind_name, _, raw_id = (value or "").partition("-")
    target_id = row_id(raw_id)
    if kind_name not in {kind.value for kind in AudienceKind} or target_id is None:
        return None
    kind = AudienceKind(kind_name)
    if kind == AudienceKind.EVENT:
        target = db.session.scalar(upcoming_events(now).where(Event.id == target_id))
    else:
        model = Domain if kind == AudienceKind.DOMAIN else Collective
        target = db.session.get(model, target_id)
    return Audience(kind, target) if target is not None else None


def recipients(audience: Audience) -> list[Recipient]:
    """Who `audience` reaches now (see the module's docstring), in a stable order."""
    if audience.kind == AudienceKind.EVENT:
        return _parties(audience.target)
    if audience.kind == AudienceKind.DOMAIN:
        chosen = sa.select(profile_interests.c.user_id).where(
            profile_interests.c.domain_id == audience.target.id
        )
    else:
        chosen = sa.select(profile_collectives.c.user_id).where(
            profile_collectives.c.collective_id == audience.target.id
        )
    rows = db.session.execute(
        sa.select(User, Profile.display_name)
        .join(Profile, Profile.user_id == User.id)
        .where(
            Profile.newsletter.is_(True),
            User.email_confirmed_at.is_not(None),
            User.id.in_(chosen),
        )
        .order_by(User.id)
    ).all()
    return [
        Recipient(user.email, display_name or user.name, user.locale, user=user)
        for user, display_name in rows
    ]


def _parties(event: Event) -> list[Recipient]:
    """The parties holding places at `event` that left an address and did not stop its
    announcements; an address that registered twice gets one mail."""
    parties = db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(HOLDING),
            Registration.contact_email != "",
            Registration.announcements_off.is_(False),
        )
        .order_by(Registration.id)
    )
    seen: set[str] = set()
    found = []
    for registration in parties:
        address = registration.contact_email.lower()
        if address in seen:
            continue
        seen.add(address)
        found.append(
            Recipient(
                registration.contact_email,
                registration.contact_name,
                registration.locale,
                registration=registration,
            )
        )
    return found


def clean_subject(subject: str) -> str:
    """The subject on one line, spaces squeezed (a line break would break the header)."""
    return " ".join((subject or "").split())


def send(
    author: User,
    audience: Audience,
    subject: str,
    body: str,
    locale: str,
    now: datetime | None = None,
) -> Announcement:
    """Send an announcement to everyone `audience` reaches: one mail each through the
    outbox, in their own language around the author's text, held back to NEWS_PER_MINUTE.

    Refuses (Refused) an audience `author` may not write to, an empty or too long
    subject or text, an audience that reaches nobody, and the same subject to the same
    audience by the same person within a few minutes (a double click).
    """
    now = now or utcnow()
    if not may_send(author, audience):
        raise Refused(_l("You may not send announcements to them."), field="audience")
    subject, body = clean_subject(subject), (body or "").strip()
    if not subject:
        raise Refused(_l("Please write a subject."), field="subject")
    if len(subject) > SUBJECT_MAX:
        raise Refused(_l("Please keep the subject under 200 characters."), field="subject")
    if not body:
        raise Refused(_l("Please write your announcement."), field="body")
    if len(body) > BODY_MAX:
        raise Refused(_l("Please keep it under %(max)d characters.", max=BODY_MAX), field="body")
    people = recipients(audience)
    if not people:
        raise Refused(_l("Nobody would get this announcement."), field="audience")
    # One announcement by the author at a time: a double click's second one waits for
    # the first to commit, and then finds it.
    lock_author(author)
    if _sent_just_now(author, audience, subject, now):
        raise Refused(_l("This announcement was sent a few minutes ago already."), "subject")
    per_minute = current_app.config["NEWS_PER_MINUTE"]
    announcement = Announcement(
        author=author,
        audience=audience.kind,
        audience_name=audience.name(locale)[:300],
        subject=subject,
        body=body,
        locale=locale,
        created_at=now,
        sent_at=now,
        last_mail_at=now + timedelta(minutes=(len(people) - 1) // per_minute),
        recipient_count=len(people),
        **{f"{audience.kind.value}_id": audience.target.id},
    )
    db.session.add(announcement)
    body_html = render_markdown(body, top_level=2)
    for number, person in enumerate(people):
        not_before = now + timedelta(minutes=number // per_minute)
        message = _queue(announcement, audience, person, body_html, not_before)
        db.session.add(
            AnnouncementRecipient(
                announcement=announcement,
                user_id=person.user.id if person.user else None,
                registration_id=person.registration.id if person.registration else None,
                outbox_message=message,
            )
        )
    db.session.flush()
    log.info(
        "Announcement %s to %s %s (%d people) sent by user %s",
        announcement.id,
        audience.kind.value,
        audience.target.id,
        len(people),
        author.id,
    )
    return announcement


def _sent_just_now(author: User, audience: Audience, subject: str, now: datetime) -> bool:
    column = getattr(Announcement, f"{audience.kind.value}_id")
    return (
        db.session.scalar(
            sa.select(Announcement.id)
            .where(
                Announcement.author_id == author.id,
                Announcement.audience == audience.kind,
                column == audience.target.id,
                Announcement.subject == subject,
                Announcement.sent_at >= now - REPEAT_WINDOW,
            )
            .limit(1)
        )
        is not None
    )


def _queue(
    announcement: Announcement,
    audience: Audience,
    person: Recipient,
    body_html: str,
    not_before: datetime,
):
    """One recipient's mail in the outbox, with their own unsubscribe link, sent from
    `not_before` on."""
    if person.registration is not None:
        token = unsubscribe.token_for_registration(person.registration)
        preferences_url = external_url("registrations.manage", token=person.registration.token)
    else:
        token = unsubscribe.token_for_user(person.user)
        preferences_url = external_url("account.profile")
    unsubscribe_url = external_url("news.unsubscribe", token=token)
    return queue_mail(
        person.email,
        announcement.subject,
        "announcement",
        person.locale,
        html_template="announcement",
        not_before=not_before,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        announcement=announcement,
        audience=audience,
        audience_name=audience.name(person.locale),
        name=person.name,
        body=announcement.body,
        body_markup=body_html,
        unsubscribe_url=unsubscribe_url,
        preferences_url=preferences_url,
        registration=person.registration,
    )


def visible_to(user: User) -> sa.Select:
    """The announcements `user` may read the record of: all for admins; for an organiser
    those to their collectives and their collectives' events, and their own."""
    query = sa.select(Announcement)
    if not user.is_admin:
        managed = user.managed_collective_ids
        query = query.outerjoin(Event, Event.id == Announcement.event_id).where(
            sa.or_(
                Announcement.author_id == user.id,
                Announcement.collective_id.in_(managed),
                Event.collective_id.in_(managed),
            )
        )
    return query


def history(user: User, page: int = 1) -> tuple[list[Announcement], bool]:
    """The announcements `user` may read (`visible_to`), newest first, a page at a time,
    and whether there are more after it. One query."""
    query = (
        visible_to(user)
        .options(sa.orm.joinedload(Announcement.author))
        .order_by(Announcement.sent_at.desc(), Announcement.id.desc())
    )
    return one_page(query, page, LIST_PAGE_SIZE)


def delivery(announcement: Announcement) -> dict[str, int]:
    """How its mails stand in the outbox, while who got it is kept: counts by status
    (`pending`, `sent`, `failed`); empty once forgotten or the mails were purged."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count())
        .join(AnnouncementRecipient, AnnouncementRecipient.outbox_message_id == OutboxMessage.id)
        .where(AnnouncementRecipient.announcement_id == announcement.id)
        .group_by(OutboxMessage.status)
    ).all()
    return {str(status): count for status, count in rows}
