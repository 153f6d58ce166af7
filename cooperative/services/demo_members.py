"""Demo members for development (`coop seed-demo`): the demo accounts become members
with made-up addresses in Amsterdam and a member share each, the admin with a direct
debit mandate whose dues are announced; beside them a register entry without an account,
a legal person (a collective) with its share for legal persons. So the member register,
the share register and the dues pages have something to show.

Every person, address and IBAN here is made up (the IBAN is the example from the SEPA
documentation). Running it twice adds nothing.
"""

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..i18n import local_zone
from ..models import (
    Collection,
    CollectionRun,
    CollectionStatus,
    MandateKind,
    Membership,
    MembershipPlan,
    MembershipStatus,
    PurchaseStatus,
    SepaMandate,
    Share,
    ShareClass,
    ShareEvent,
    ShareEventKind,
    SharePurchase,
    User,
)
from ..sepa_ids import end_to_end_id, mandate_reference

DEMO_IBAN = "NL02ABNA0123456789"

# The demo accounts' e-mail address (None: an entry without an account, as an imported
# one), name, street, number, postcode, city, organisation, KvK number, mandate.
DEMO_MEMBERS = [
    (
        "admin@meentcoop.example",
        "Anna Admin",
        "Javastraat",
        "12-2",
        "1094 HA",
        "Amsterdam",
        "",
        "",
        True,
    ),
    (
        "organiser@meentcoop.example",
        "Otto Organisator",
        "Bilderdijkstraat",
        "88",
        "1053 KX",
        "Amsterdam",
        "",
        "",
        False,
    ),
    (
        None,
        "Zeynep Zon",
        "Linnaeusstraat",
        "4",
        "1092 CK",
        "Amsterdam",
        "Zonnedak Oost",
        "12345678",
        False,
    ),
]


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=local_zone())


def _issue(membership: Membership, share_class: ShareClass, when: datetime) -> None:
    """One paid share of `share_class` (a bank transfer before the demo began)."""
    purchase = SharePurchase(
        membership=membership,
        share_class=share_class,
        quantity=1,
        unit_amount_cents=share_class.amount_cents,
        status=PurchaseStatus.ISSUED,
        requested_at=when,
        decided_at=when,
    )
    number = (db.session.scalar(sa.select(sa.func.max(Share.number))) or 0) + 1
    share = Share(
        number=number,
        share_class=share_class,
        membership=membership,
        purchase=purchase,
        amount_cents=share_class.amount_cents,
        issued_at=when,
        paid_at=when,
    )
    db.session.add_all([purchase, share])
    db.session.add(ShareEvent(share=share, kind=ShareEventKind.ISSUED, at=when))
    db.session.add(ShareEvent(share=share, kind=ShareEventKind.PAID, at=when, note="bank"))
    db.session.flush()


def _exists(email: str | None, name: str, organisation: str) -> bool:
    query = sa.select(Membership.id)
    if email is None:
        query = query.where(
            Membership.user_id.is_(None),
            Membership.registered_name == name,
            Membership.organisation_name == organisation,
        )
    else:
        query = query.join(Membership.user).where(User.email == email)
    return db.session.scalar(query.limit(1)) is not None


def seed_members(today: date) -> int:
    """Make the demo accounts members and add the entry without an account, where
    missing; return how many memberships were added."""
    plan = db.session.scalar(sa.select(MembershipPlan).where(MembershipPlan.slug == "lid"))
    classes = {c.slug: c for c in db.session.scalars(sa.select(ShareClass))}
    if plan is None or "ledenaandeel" not in classes:
        return 0
    added = 0
    for position, row in enumerate(DEMO_MEMBERS):
        email, name, street, number, postcode, city, org, kvk, mandate = row
        if _exists(email, name, org):
            continue
        user = None
        if email is not None:
            user = db.session.scalar(sa.select(User).where(User.email == email))
            if user is None:
                continue
        joined = today - timedelta(days=300 - 40 * position)
        highest = db.session.scalar(sa.select(sa.func.max(Membership.number))) or 0
        membership = Membership(
            user=user,
            plan=plan,
            number=highest + 1,
            status=MembershipStatus.ACTIVE,
            started_at=_at(joined),
            # The mandate's member renews soon: the dues run below collects it.
            ends_at=_at(today + timedelta(days=20)) if mandate else _at(joined + timedelta(365)),
            registered_name=name,
            street=street,
            house_number=number,
            postcode=postcode,
            city=city,
            country="NL",
            admitted_on=joined,
            email_notices_consent_at=_at(joined) if user else None,
            organisation_name=org,
            kvk_number=kvk,
        )
        db.session.add(membership)
        db.session.flush()
        _issue(membership, classes["ledenaandeel"], _at(joined))
        if org and "aandeel-rechtspersoon" in classes:
            _issue(membership, classes["aandeel-rechtspersoon"], _at(joined))
        if mandate:
            _mandate_with_dues(membership, today)
        added += 1
    return added


def _mandate_with_dues(membership: Membership, today: date) -> None:
    """The cooperative's own mandate, and a dues run announced for its renewal."""
    mandate = SepaMandate(
        membership=membership,
        kind=MandateKind.OWN,
        reference=mandate_reference(membership.id, 1),
        iban=DEMO_IBAN,
        iban_last4=DEMO_IBAN[-4:],
        account_holder=membership.registered_name,
        signed_on=today - timedelta(days=60),
    )
    run = CollectionRun(debit_date=today + timedelta(days=14), created_at=_at(today))
    collection = Collection(
        run=run,
        membership=membership,
        mandate=mandate,
        amount_cents=membership.plan.fee_cents,
        debit_date=run.debit_date,
        period_ends_at=membership.ends_at,
        status=CollectionStatus.SCHEDULED,
        end_to_end_id=f"demo-{membership.id}",
        sequence_type="FRST",
        prenotified_at=_at(today),
    )
    db.session.add_all([mandate, run, collection])
    db.session.flush()
    collection.end_to_end_id = end_to_end_id(collection.id)
    db.session.flush()
