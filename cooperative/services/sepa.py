"""Dues by SEPA direct debit: the cooperative as creditor, and members' mandates.

A member gives a mandate: to the cooperative itself (IBAN and holder typed here; the
collections go to the bank in a pain.008 file, `services.sepa_file`) or, with Stripe
configured, through Stripe Checkout (`services.sepa_stripe`). The dues run and the
results of its collections are in `services.dues`. Services flush; the caller commits.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from dateutil.easter import easter
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..i18n import local_zone, long_date
from ..models import (
    Collection,
    CollectionStatus,
    MandateKind,
    MandateStatus,
    Membership,
    MembershipStatus,
    SepaMandate,
    utcnow,
)
from ..refusals import Refused
from ..sepa_ids import (
    InvalidIdentifier,
    checked_iban,
    mandate_reference,
)
from . import payments
from .mail import external_url, queue_member_mail

# The states a member may give a mandate in: a member, or on their way to being one.
MANDATE_STATES = (
    MembershipStatus.ACTIVE,
    MembershipStatus.PENDING_PAYMENT,
    MembershipStatus.PENDING_APPROVAL,
)


@dataclass(frozen=True)
class Creditor:
    """Who collects: named in the mandate text, the pre-notification and the file."""

    name: str
    creditor_id: str
    iban: str
    bic: str


def creditor() -> Creditor:
    """The cooperative as creditor, from the settings (empty strings where not set)."""
    config = current_app.config
    return Creditor(
        name=config["SEPA_CREDITOR_NAME"],
        creditor_id=config["SEPA_CREDITOR_ID"],
        iban=config["BANK_IBAN"],
        bic=config["SEPA_CREDITOR_BIC"],
    )


def route() -> MandateKind | None:
    """How a new mandate is given: through Stripe when it is configured, else the
    cooperative's own when a creditor identifier and IBAN are set; None: not offered."""
    if payments.online_payments_enabled():
        return MandateKind.STRIPE
    found = creditor()
    if found.creditor_id and found.iban:
        return MandateKind.OWN
    return None


def prenotification_days() -> int:
    """How many days before the debit date members are told at the latest."""
    return current_app.config["SEPA_PRENOTIFICATION_DAYS"]


def local_today(now: datetime | None = None) -> date:
    """Today in Amsterdam: debit dates are bank days there."""
    return (now or utcnow()).astimezone(local_zone()).date()


# The days TARGET2, the euro's settlement system, is closed on besides the weekends
# (month, day); Good Friday and Easter Monday move with Easter.
TARGET_CLOSED = frozenset({(1, 1), (5, 1), (12, 25), (12, 26)})


def is_target_day(day: date) -> bool:
    """Whether banks settle SEPA debits on `day`: a TARGET business day, Monday to Friday
    except 1 January, Good Friday, Easter Monday, 1 May, 25 and 26 December."""
    if day.weekday() >= 5 or (day.month, day.day) in TARGET_CLOSED:
        return False
    sunday = easter(day.year)
    return day not in (sunday - timedelta(days=2), sunday + timedelta(days=1))


def next_target_day(day: date) -> date:
    """`day` when it is a TARGET business day, else the first one after it."""
    while not is_target_day(day):
        day += timedelta(days=1)
    return day


def check_target_day(day: date) -> None:
    """Refuses a debit date on which banks do not debit, naming the next one that is."""
    if not is_target_day(day):
        raise Refused(
            _l(
                "Banks do not debit on that day (a weekend or a bank holiday): the next "
                "business day is %(day)s.",
                day=long_date(next_target_day(day)),
            ),
            "debit_date",
        )


def earliest_debit_date(now: datetime | None = None) -> date:
    """The first debit date a dues run may choose now: the prenotification days from
    today, moved on to a TARGET business day."""
    return next_target_day(local_today(now) + timedelta(days=prenotification_days()))


def start_of(day: date) -> datetime:
    """The first moment of `day` in Amsterdam, as an aware datetime."""
    return datetime.combine(day, time(0, 0), local_zone())


# --- mandates -------------------------------------------------------------------------


def latest_mandate(membership: Membership) -> SepaMandate | None:
    """The membership's newest mandate, in force or ended, or None."""
    return db.session.scalar(
        sa.select(SepaMandate)
        .where(SepaMandate.membership_id == membership.id)
        .order_by(SepaMandate.id.desc())
        .limit(1)
    )


def active_mandate(membership: Membership | None) -> SepaMandate | None:
    """The membership's mandate in force, or None."""
    if membership is None:
        return None
    return db.session.scalar(
        sa.select(SepaMandate).where(
            SepaMandate.membership_id == membership.id,
            SepaMandate.status == MandateStatus.ACTIVE,
        )
    )


def check_may_give(membership: Membership | None) -> Membership:
    """Refuses a person who is not a member (nor on their way), or who has a mandate in
    force already; returns the membership."""
    if membership is None or membership.status not in MANDATE_STATES:
        raise Refused(_l("Only members can pay their dues by direct debit."))
    if active_mandate(membership) is not None:
        raise Refused(_l("You have a mandate already. End it first to give a new one."))
    return membership


def next_reference(membership: Membership) -> str:
    """The reference of the membership's next mandate (MEENT-000123-02 for its second),
    counted up in the database: a reference is never given twice, even after the ended
    mandates are purged (SEPA forbids reusing one)."""
    given = db.session.execute(
        sa.update(Membership)
        .where(Membership.id == membership.id)
        .values(mandates_given=Membership.mandates_given + 1)
        .returning(Membership.mandates_given),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    set_committed_value(membership, "mandates_given", given)
    return mandate_reference(membership.id, given)


def give_mandate(
    membership: Membership | None,
    iban: str,
    account_holder: str,
    consent: bool,
    now: datetime | None = None,
) -> SepaMandate:
    """The member gives the cooperative its own mandate, signed today, and is e-mailed a copy.

    Refuses when the cooperative takes no mandates of its own (Stripe takes them, or no
    creditor identifier is set), without consent, without a holder's name, with an IBAN
    whose country, length or check digits are wrong, and what `check_may_give` refuses.
    """
    now = now or utcnow()
    if route() != MandateKind.OWN:
        raise Refused(_l("Direct debit mandates are not given on this page now."))
    membership = check_may_give(membership)
    holder = " ".join((account_holder or "").split())
    if not holder:
        raise Refused(_l("Please give the name of the account holder."), "account_holder")
    if len(holder) > 70:
        raise Refused(_l("The name can be at most 70 characters."), "account_holder")
    try:
        compact = checked_iban(iban)
    except InvalidIdentifier:
        raise Refused(
            _l("This IBAN is not right: please check the country, length and digits."), "iban"
        ) from None
    if not consent:
        raise Refused(_l("Please tick the box to give the mandate."), "consent")
    mandate = SepaMandate(
        membership=membership,
        kind=MandateKind.OWN,
        status=MandateStatus.ACTIVE,
        reference=next_reference(membership),
        iban=compact,
        iban_last4=compact[-4:],
        account_holder=holder,
        signed_on=local_today(now),
    )
    db.session.add(mandate)
    db.session.flush()
    mail_member(membership, "mandate_given", mandate=mandate)
    return mandate


def end_mandate(mandate: SepaMandate, now: datetime | None = None) -> None:
    """End a mandate in force (the member's own wish): nothing more is collected under
    it; collections announced but not yet sent are cancelled. Refuses one ended already."""
    now = now or utcnow()
    if mandate.status != MandateStatus.ACTIVE:
        raise Refused(_l("This mandate has ended already."))
    mandate.status = MandateStatus.ENDED
    mandate.ended_at = now
    for collection in db.session.scalars(
        sa.select(Collection).where(
            Collection.mandate_id == mandate.id,
            Collection.status == CollectionStatus.SCHEDULED,
        )
    ):
        collection.status = CollectionStatus.CANCELLED
        collection.reason = "mandate ended"
        # Not debited after all: the usual renewal reminder (with a payment link) comes.
        collection.membership.renewal_reminded_at = None
    db.session.flush()


# --- mail -----------------------------------------------------------------------------

SUBJECTS = {
    "mandate_given": lambda: _l("Your direct debit mandate"),
    "dues_prenotification": lambda: _l("Your dues will be debited"),
    "dues_failed": lambda: _l("Your dues could not be debited"),
    "dues_reversed": lambda: _l("Your dues were returned by your bank"),
    "debit_prenotification": lambda: _l("Your payment will be debited"),
    "debit_failed": lambda: _l("Your payment could not be debited"),
}


def mail_member(membership: Membership, template: str, **context) -> None:
    """E-mail the member about their mandate or dues (`queue_member_mail`: nothing once
    their account is deleted, though a debit sent before may still fail or be reversed)."""
    queue_member_mail(
        membership,
        SUBJECTS[template](),
        template,
        creditor=creditor(),
        mandate_url=external_url("mandate.show"),
        account_url=external_url("account.index"),
        **context,
    )


def export_of(membership_ids: list[int]) -> dict:
    """A person's mandates and collections, for their data export (the whole IBAN too:
    it is their own)."""
    mandates = db.session.scalars(
        sa.select(SepaMandate)
        .where(SepaMandate.membership_id.in_(membership_ids))
        .order_by(SepaMandate.id)
    ).all()
    collections = db.session.scalars(
        sa.select(Collection)
        .where(Collection.membership_id.in_(membership_ids))
        .order_by(Collection.id)
    ).all()
    return {
        "mandates": [
            {
                "reference": mandate.reference,
                "kind": mandate.kind.value,
                "status": mandate.status.value,
                "iban": mandate.iban or f"…{mandate.iban_last4}",
                "account_holder": mandate.account_holder,
                "signed_on": mandate.signed_on.isoformat(),
                "ended_at": mandate.ended_at.isoformat() if mandate.ended_at else None,
            }
            for mandate in mandates
        ],
        "collections": [
            {
                "purpose": collection.purpose.value,
                "amount_cents": collection.amount_cents,
                "debit_date": collection.debit_date.isoformat(),
                "status": collection.status.value,
                "reason": collection.reason,
                "end_to_end_id": collection.end_to_end_id,
            }
            for collection in collections
        ],
    }
