"""Test data for dues by direct debit: the cooperative as creditor, yearly members with a
mandate, and a clock set to the day a dues run is made."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Membership, OutboxMessage, SepaMandate, User
from cooperative.services import membership as memberships
from cooperative.services import sepa
from tests.factories import make_member, make_plan

CREDITOR_ID = "NL57ZZZ999999999999"  # check digits right (sepa_ids.creditor_id_check_digits)
COOP_IBAN = "NL91 ABNA 0417 1643 00"
MEMBER_IBAN = "NL02ABNA0123456789"
FEE = 2500


@pytest.fixture
def creditor(app, monkeypatch):
    """The cooperative collects its own mandates: a creditor identifier and an IBAN."""
    monkeypatch.setitem(app.config, "SEPA_CREDITOR_ID", CREDITOR_ID)
    monkeypatch.setitem(app.config, "SEPA_CREDITOR_NAME", "Coöperatie MeentCoop U.A.")
    monkeypatch.setitem(app.config, "BANK_IBAN", COOP_IBAN)
    monkeypatch.setitem(app.config, "SEPA_CREDITOR_BIC", "")
    return app


def yearly_plan():
    """The yearly plan with a fee (made once)."""
    from cooperative.models import MembershipPlan

    return db.session.scalar(
        sa.select(MembershipPlan).where(MembershipPlan.slug == "jaarlid")
    ) or make_plan("jaarlid", fee_cents=FEE, period="yearly")


def yearly_member(email: str, ends_at: datetime, locale: str = "en") -> Membership:
    """An active yearly member whose year ends at `ends_at`."""
    user = make_member(email, plan=yearly_plan())
    user.locale = locale
    membership = memberships.current_membership(user)
    membership.ends_at = ends_at
    db.session.commit()
    return membership


def with_mandate(membership: Membership, iban: str = MEMBER_IBAN, now=None) -> SepaMandate:
    """The member gives the cooperative's own mandate (committed)."""
    mandate = sepa.give_mandate(membership, iban, membership.user.name, True, now=now)
    db.session.commit()
    return mandate


def due_member(email: str, debit_date, mandate: bool = True, offset=timedelta(0)):
    """A yearly member whose dues fall due exactly on `debit_date` (plus `offset`)."""
    ends_at = sepa.start_of(debit_date) + timedelta(days=14) + offset
    membership = yearly_member(email, ends_at)
    if mandate:
        with_mandate(membership)
    return membership


def debit_day(now: datetime, days: int = 14):
    """The first TARGET business day from the local date `days` after `now` on."""
    return sepa.next_target_day(sepa.local_today(now) + timedelta(days=days))


def passed_debit_day():
    """The latest TARGET business day up to today: a debit date that has come."""
    day = sepa.local_today()
    while not sepa.is_target_day(day):
        day -= timedelta(days=1)
    return day


def run_dues_of(day):
    """The dues run debited on `day`, made on the day its members were told at the latest
    (the prenotification days before it)."""
    from cooperative.services import dues

    told = sepa.start_of(day) - timedelta(days=sepa.prenotification_days()) + timedelta(hours=12)
    return dues.run_dues(day, now=told)


def subjects(email: str) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.subject)
            .where(OutboxMessage.to_address == email)
            .order_by(OutboxMessage.id)
        )
    )


def last_body(email: str) -> str:
    return db.session.scalars(
        sa.select(OutboxMessage.body_text)
        .where(OutboxMessage.to_address == email)
        .order_by(OutboxMessage.id.desc())
    ).first()


def user_id(email: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.email == email))
