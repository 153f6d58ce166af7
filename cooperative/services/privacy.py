"""A person's own data: the profile, e-mail change, export, deleting the account, and a
guest forgetting their registration after the event (the daily purge: `retention`).

Anonymising a registration means: the contact name and e-mail become "", every
attendee's name and diet note become "", the link to the account is cut. What stays is
what the cooperative needs for its numbers and its books: the event, the count of people
and meals, the diets, the amounts due and paid. Payments keep their amount, status and
dates; their description (which may hold a name) becomes "". The e-mails about the
registration (which name the people and hold the private link) are deleted.
"""

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired

from ..extensions import db
from ..models import (
    AnnouncementRecipient,
    Attendee,
    AuditEntry,
    CheckInRecord,
    Collective,
    CollectiveSuggestion,
    Domain,
    Event,
    Membership,
    MembershipStatus,
    OutboxMessage,
    OutboxStatus,
    Payment,
    Registration,
    RegistrationStatus,
    User,
    normalise_email,
    utcnow,
)
from ..refusals import Refused
from . import registration as registrations
from . import (
    sepa,
    shares,
    unsubscribe,
    volunteers,
)
from .accounts import _fingerprint, _serializer, find_user
from .mail import external_url, queue_mail

EMAIL_CHANGE_MAX_AGE = 3 * 24 * 3600


# --- e-mail and password -------------------------------------------------------------


def request_email_change(user: User, new_email: str, password: str) -> None:
    """Keep `new_email` waiting and e-mail a confirmation link to it.

    Refuses a wrong password and the address the account already has. When the new
    address belongs to another account, nothing is said here (it would tell who has an
    account); the link then fails with a message.
    """
    if not user.check_password(password):
        raise Refused(_l("This password is not right."), "password")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise Refused(_l("This is already your e-mail address."), "new_email")
    user.pending_email = new_email
    token = _serializer("email-change").dumps(
        {"id": user.id, "email": new_email, "fp": _fingerprint(user.email)}
    )
    queue_mail(
        new_email,
        _l("Confirm your new e-mail address"),
        "email_change",
        user.locale,
        user=user,
        confirm_url=external_url("account.confirm_email_change", token=token),
    )


def user_for_email_change(token: str) -> User | None:
    """The account an e-mail change link is for, while the link still holds.

    None for a forged, expired or outdated link, or when another account took the address
    in the meantime.
    """
    try:
        data = _serializer("email-change").loads(token, max_age=EMAIL_CHANGE_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) else None
    if user is None or data.get("fp") != _fingerprint(user.email):
        return None
    if data.get("email") != user.pending_email or find_user(data["email"]) is not None:
        return None
    return user


def confirm_email_change(token: str) -> User | None:
    """Make the address of an e-mail change link the account's address; None when the
    link does not hold (see `user_for_email_change`)."""
    user = user_for_email_change(token)
    if user is None:
        return None
    user.email = user.pending_email
    user.pending_email = None
    user.email_confirmed_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password; refuses when the current one is wrong."""
    if not user.check_password(current):
        raise Refused(_l("This password is not right."), "current_password")
    user.set_password(new)


# --- the private calendar ------------------------------------------------------------


def reset_calendar_token(user: User) -> str:
    """A new secret for the person's calendar feed; the old address stops working."""
    user.calendar_token = secrets.token_urlsafe(24)
    return user.calendar_token


def user_by_calendar_token(token: str) -> User | None:
    if not token:
        return None
    return db.session.scalar(sa.select(User).where(User.calendar_token == token))


def events_for(user: User, limit: int | None = None) -> list[Event]:
    """Coming events hosted by collectives working in the domains the person cares about."""
    profile = user.profile
    domain_ids = [domain.id for domain in profile.interests] if profile else []
    if not domain_ids:
        return []
    query = (
        Event.upcoming()
        .join(Event.collective)
        .where(
            sa.or_(
                Collective.primary_domain_id.in_(domain_ids),
                Collective.domains.any(Domain.id.in_(domain_ids)),
            )
        )
        .options(sa.orm.contains_eager(Event.collective))
    )
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


# --- registrations of a person -------------------------------------------------------


def registrations_of(user: User) -> list[Registration]:
    """Registrations made while logged in, and as a guest with the confirmed address."""
    mine = Registration.user_id == user.id
    if user.email_confirmed:
        mine = sa.or_(mine, Registration.contact_email == user.email)
    return list(
        db.session.scalars(
            sa.select(Registration)
            .join(Registration.event)
            .where(mine)
            .options(
                sa.orm.contains_eager(Registration.event),
                sa.orm.selectinload(Registration.attendees),
            )
            .order_by(Event.starts_at.desc(), Registration.id.desc())
        )
    )


def anonymise_registration(registration: Registration) -> None:
    """Remove the names and address from a registration, and the e-mails about it that
    are sent or given up on; keep its counts and amounts.

    A mail still on its way (pending: e.g. the cancellation just queued when an account
    is deleted) is left to go, but not an announcement; once sent it lives
    OUTBOX_KEEP_DAYS at most (`services.retention.purge_mail`).
    """
    db.session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.registration_id == registration.id,
            OutboxMessage.status != OutboxStatus.PENDING,
        ),
        execution_options={"synchronize_session": False},
    )
    # Who got an announcement goes too, with its mails not sent yet; its count stays.
    unsubscribe.drop_unsent(AnnouncementRecipient.registration_id == registration.id)
    db.session.execute(
        sa.delete(AnnouncementRecipient).where(
            AnnouncementRecipient.registration_id == registration.id
        ),
        execution_options={"synchronize_session": False},
    )
    registration.contact_name = ""
    registration.contact_email = ""
    registration.user_id = None
    for attendee in registration.attendees:
        attendee.name = ""
        attendee.diet_note = ""
    for payment in db.session.scalars(
        sa.select(Payment).where(Payment.registration_id == registration.id)
    ):
        payment.description = ""


# --- export --------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export(user: User) -> dict:
    """Everything we hold about `user`, as JSON-ready data.

    Only their own data: the account, the profile, their memberships (without who
    decided), their registrations (with the people they registered), their payments
    (for their memberships and registrations) and the collectives they help run.
    """
    profile = user.profile
    memberships = list(
        db.session.scalars(
            sa.select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
        )
    )
    registrations_ = registrations_of(user)
    payment_rows = list(
        db.session.scalars(
            sa.select(Payment)
            .where(
                sa.or_(
                    Payment.membership_id.in_([m.id for m in memberships]),
                    Payment.registration_id.in_([r.id for r in registrations_]),
                )
            )
            .order_by(Payment.id)
        )
    )
    return {
        "exported_at": utcnow().isoformat(),
        "account": {
            "name": user.name,
            "email": user.email,
            "pending_email": user.pending_email,
            "language": user.locale,
            "email_confirmed_at": _when(user.email_confirmed_at),
            "created_at": _when(user.created_at),
            "is_admin": user.is_admin,
            "has_private_calendar": bool(user.calendar_token),
        },
        "profile": None
        if profile is None
        else {
            "display_name": profile.display_name,
            "neighbourhood": profile.neighbourhood,
            "bio": profile.bio,
            "interests": [domain.slug for domain in profile.interests],
            "followed_collectives": [c.slug for c in profile.followed_collectives],
            "offer": profile.offer,
            "visibility": profile.visibility.value,
            "newsletter": profile.newsletter,
        },
        "memberships": [
            {
                "plan": membership.plan.slug,
                "number": membership.number,
                "status": membership.status.value,
                "started_at": _when(membership.started_at),
                "ends_at": _when(membership.ends_at),
                "decision_note": membership.decision_note,
                "privacy_accepted_at": _when(membership.privacy_accepted_at),
                "renewal_reminded_at": _when(membership.renewal_reminded_at),
                "created_at": _when(membership.created_at),
                "registered_name": membership.registered_name,
                "address": {
                    "street": membership.street,
                    "house_number": membership.house_number,
                    "postcode": membership.postcode,
                    "city": membership.city,
                    "country": membership.country,
                },
                "admitted_on": _when(membership.admitted_on),
                "email_notices_consent_at": _when(membership.email_notices_consent_at),
                "cancellation_received_on": _when(membership.cancellation_received_on),
                "leaves_on": _when(membership.leaves_on),
                "leaving_way": membership.leaving_way.value if membership.leaving_way else None,
            }
            for membership in memberships
        ],
        "registrations": [
            {
                "event": registration.event.title,
                "event_starts_at": _when(registration.event.starts_at),
                "status": registration.status.value,
                "contact_name": registration.contact_name,
                "contact_email": registration.contact_email,
                "people": [
                    {
                        "name": attendee.name,
                        "diets": list(attendee.diets or []),
                        "diet_note": attendee.diet_note,
                        "cancelled": attendee.cancelled_at is not None,
                    }
                    for attendee in registration.attendees
                ],
                "amount_due_cents": registration.amount_due_cents,
                "amount_paid_cents": registration.amount_paid_cents,
                "payment_state": registration.payment_state.value,
                "created_at": _when(registration.created_at),
            }
            for registration in registrations_
        ],
        "payments": [
            {
                "for": "membership" if payment.membership_id else "registration",
                "provider": payment.provider.value,
                "status": payment.status.value,
                "amount_cents": payment.amount_cents,
                "refunded_cents": payment.refunded_cents,
                "currency": payment.currency,
                "description": payment.description,
                "paid_at": _when(payment.paid_at),
                "created_at": _when(payment.created_at),
            }
            for payment in payment_rows
        ],
        "volunteer_tasks": volunteers.export_slots(user),
        "collectives_i_help_run": [role.collective.name for role in user.collective_roles],
        # Mandates for dues by direct debit, and their collections.
        "direct_debit": sepa.export_of([membership.id for membership in memberships]),
    }


# --- deleting ------------------------------------------------------------------------


def delete_account(user: User, password: str, now: datetime | None = None) -> None:
    """Delete the account after the password is confirmed.

    Coming registrations are cancelled (seats freed, the waiting list promoted, refunds
    as for any cancellation), then every registration is anonymised; payments stay as
    amounts without a name; profile, roles and the account are deleted, and mails
    already sent to the address are removed from the outbox, as are the announcements
    still waiting for it (they are not sent).

    The member register outlives the account (art. 2:61 BW): a membership that was ever
    admitted (a member number) or decided on (an application turned down) stays, cut
    from the account, with what the register holds (name and address as registered,
    the dates, the decision); the consent to e-mail goes with the address. An open
    application nobody decided on yet is deleted.
    Raises Refused for a wrong password, and for an open application that holds shares
    already (paid, waiting for the board: the share register keeps its shares);
    registrations.PaymentUnavailable may come
    from a refund Stripe does not answer (nothing is changed then).
    """
    if not user.check_password(password):
        raise Refused(_l("This password is not right."), "password")
    # An open application is deleted with the account, but not one whose
    # shares are issued (paid, waiting for the board): the share register keeps them.
    if shares.open_application_holds_shares(user):
        raise Refused(
            _l(
                "Your application is paid and waits for the board, and the share register "
                "keeps your share. Please wait for the board's decision, then try again."
            )
        )
    now = now or utcnow()
    address = user.email
    for registration in registrations_of(user):
        if registration.status != RegistrationStatus.CANCELLED and registration.can_change(now):
            registrations.cancel(registration, now)
        anonymise_registration(registration)
    membership_ids = list(
        db.session.scalars(sa.select(Membership.id).where(Membership.user_id == user.id))
    )
    if membership_ids:
        db.session.execute(
            sa.update(Payment)
            .where(Payment.membership_id.in_(membership_ids))
            .values(membership_id=None, description=""),
            execution_options={"synchronize_session": False},
        )
    # What this person decided or recorded stays; only the link to them goes.
    for model, column in (
        (Membership, Membership.decided_by_id),
        (Payment, Payment.recorded_by_id),
        (Attendee, Attendee.checked_in_by_id),
        (CheckInRecord, CheckInRecord.by_id),
        (CollectiveSuggestion, CollectiveSuggestion.decided_by_id),
        (AuditEntry, AuditEntry.actor_id),
        (AuditEntry, AuditEntry.subject_user_id),
    ):
        db.session.execute(
            sa.update(model).where(column == user.id).values({column.key: None}),
            execution_options={"synchronize_session": False},
        )
    _keep_register_entries(user)
    volunteers.forget_user(user)
    unsubscribe.drop_unsent(AnnouncementRecipient.user_id == user.id)
    db.session.execute(
        sa.delete(AnnouncementRecipient).where(AnnouncementRecipient.user_id == user.id),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.to_address == address, OutboxMessage.status != OutboxStatus.PENDING
        )
    )
    db.session.delete(user)
    db.session.flush()


def _keep_register_entries(user: User) -> None:
    """Cut the account's memberships from it, keeping the register (see `delete_account`)."""
    undecided = sa.and_(
        Membership.number.is_(None),
        Membership.status.in_(
            (MembershipStatus.PENDING_PAYMENT, MembershipStatus.PENDING_APPROVAL)
        ),
    )
    db.session.execute(
        sa.delete(Membership).where(Membership.user_id == user.id, undecided),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        sa.update(Membership)
        .where(Membership.user_id == user.id)
        .values(
            user_id=None,
            registered_name=sa.case(
                (Membership.registered_name == "", user.name), else_=Membership.registered_name
            ),
            email_notices_consent_at=None,
            renewal_reminded_at=None,
        ),
        execution_options={"synchronize_session": False},
    )


def forget_guest(registration: Registration, now: datetime | None = None) -> None:
    """A guest removes their data from a registration after its event has ended."""
    now = now or utcnow()
    if registration.event.ends_at > now:
        raise Refused(
            _l("You can remove your data after the event; until then, cancel instead."),
            "registration",
        )
    anonymise_registration(registration)
