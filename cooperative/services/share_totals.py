"""What the share register adds up to: capital per class (paid and unpaid), shares issued
and repaid per year, the number of members holding shares; and the register as rows for
the admin's page, its CSV and the PDF overview for the annual report; what one member
holds, and how many shares each member of a list holds.

Capital is the sum of paid shares not repaid. Years are the cooperative's own (in its
time zone). One query reads the shares; the sums are made here, in integer cents.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..i18n import local_zone
from ..models import Membership, Share, ShareClass
from .shares import held_by


@dataclass
class ClassTotals:
    """One class's shares: counts and cents by state, and the members holding any."""

    share_class: ShareClass
    issued: int = 0
    issued_cents: int = 0
    paid: int = 0
    paid_cents: int = 0
    unpaid: int = 0
    unpaid_cents: int = 0
    to_repay: int = 0
    to_repay_cents: int = 0
    repaid: int = 0
    repaid_cents: int = 0
    holders: set[int] = field(default_factory=set)

    @property
    def capital_cents(self) -> int:
        """Paid and not repaid (marked for repayment still counts: not given back yet)."""
        return self.paid_cents + self.to_repay_cents

    @property
    def member_count(self) -> int:
        return len(self.holders)


@dataclass
class YearTotals:
    """Shares issued and repaid in one year, one class."""

    year: int
    share_class: ShareClass
    issued: int = 0
    issued_cents: int = 0
    repaid: int = 0
    repaid_cents: int = 0


@dataclass
class Totals:
    classes: list[ClassTotals]
    years: list[YearTotals]
    member_count: int

    @property
    def capital_cents(self) -> int:
        return sum(totals.capital_cents for totals in self.classes)

    @property
    def unpaid_cents(self) -> int:
        return sum(totals.unpaid_cents for totals in self.classes)


def _year(moment: datetime) -> int:
    return moment.astimezone(local_zone()).year


def totals() -> Totals:
    """The register's totals per class and per year (two queries)."""
    classes = list(
        db.session.scalars(sa.select(ShareClass).order_by(ShareClass.position, ShareClass.id))
    )
    by_class = {share_class.id: ClassTotals(share_class) for share_class in classes}
    by_year: dict[tuple[int, int], YearTotals] = {}
    holders: set[int] = set()
    rows = db.session.execute(
        sa.select(
            Share.share_class_id,
            Share.membership_id,
            Share.amount_cents,
            Share.issued_at,
            Share.paid_at,
            Share.repayment_due_on,
            Share.repaid_at,
            Share.repaid_cents,
        )
    )
    for class_id, owner, amount, issued_at, paid_at, due_on, repaid_at, repaid_cents in rows:
        totals = by_class[class_id]
        totals.issued += 1
        totals.issued_cents += amount
        year = by_year.setdefault(
            (_year(issued_at), class_id), YearTotals(_year(issued_at), totals.share_class)
        )
        year.issued += 1
        year.issued_cents += amount
        if repaid_at is not None:
            totals.repaid += 1
            totals.repaid_cents += repaid_cents or 0
            year = by_year.setdefault(
                (_year(repaid_at), class_id), YearTotals(_year(repaid_at), totals.share_class)
            )
            year.repaid += 1
            year.repaid_cents += repaid_cents or 0
            continue
        totals.holders.add(owner)
        holders.add(owner)
        if paid_at is None:
            totals.unpaid += 1
            totals.unpaid_cents += amount
        elif due_on is not None:
            totals.to_repay += 1
            totals.to_repay_cents += amount
        else:
            totals.paid += 1
            totals.paid_cents += amount
    position = {share_class.id: index for index, share_class in enumerate(classes)}
    years = sorted(by_year.values(), key=lambda y: (y.year, position[y.share_class.id]))
    return Totals(classes=list(by_class.values()), years=years, member_count=len(holders))


def capital_cents() -> int:
    """The cooperative's share capital: the sum of paid shares not repaid."""
    return (
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Share.amount_cents), 0)).where(
                Share.paid_at.is_not(None), Share.repaid_at.is_(None)
            )
        )
        or 0
    )


def register_query() -> sa.Select:
    """Every share by number, with its class and its holder (membership and person)."""
    return (
        sa.select(Share)
        .options(
            sa.orm.joinedload(Share.share_class),
            sa.orm.joinedload(Share.membership).joinedload(Membership.user),
        )
        .order_by(Share.number)
    )


def holding(membership: Membership) -> tuple[int, int, int]:
    """What `membership` holds, in one query: (shares not repaid, the capital they paid,
    what is still to pay for them)."""
    paid = Share.paid_at.is_not(None)
    count, paid_cents, unpaid_cents = db.session.execute(
        sa.select(
            sa.func.count(Share.id),
            sa.func.coalesce(sa.func.sum(sa.case((paid, Share.amount_cents), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((paid, 0), else_=Share.amount_cents)), 0),
        ).where(held_by(membership))
    ).one()
    return count, paid_cents, unpaid_cents


def held_counts(membership_ids: list[int]) -> dict[int, int]:
    """How many shares (not repaid) each of these memberships holds, in one query."""
    counts = dict.fromkeys(membership_ids, 0)
    if membership_ids:
        counts.update(
            db.session.execute(
                sa.select(Share.membership_id, sa.func.count(Share.id))
                .where(Share.membership_id.in_(membership_ids), Share.repaid_at.is_(None))
                .group_by(Share.membership_id)
            ).all()
        )
    return counts


def paid_counts(membership_ids: list[int]) -> dict[int, int]:
    """How many paid shares, not repaid, each of these memberships holds, in one query
    (a share marked for repayment still counts until it is repaid)."""
    counts = dict.fromkeys(membership_ids, 0)
    if membership_ids:
        counts.update(
            db.session.execute(
                sa.select(Share.membership_id, sa.func.count(Share.id))
                .where(
                    Share.membership_id.in_(membership_ids),
                    Share.paid_at.is_not(None),
                    Share.repaid_at.is_(None),
                )
                .group_by(Share.membership_id)
            ).all()
        )
    return counts
