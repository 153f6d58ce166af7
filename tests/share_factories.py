"""Test data for the share register, as plain functions (inside an app context; commit)."""

from cooperative.extensions import db
from cooperative.models import Membership, ShareClass
from tests.factories import make_member


def make_share_class(
    slug: str = "extra-aandeel",
    amount_cents: int = 10000,
    max_per_member: int | None = 20,
    required: bool = False,
    **kw,
) -> ShareClass:
    """A class of shares (names from the slug), open for persons unless told."""
    share_class = ShareClass(
        slug=slug,
        name_nl=kw.pop("name_nl", slug.replace("-", " ").capitalize()),
        name_en=kw.pop("name_en", slug.replace("-", " ").capitalize() + " (en)"),
        amount_cents=amount_cents,
        max_per_member=max_per_member,
        required=required,
        **kw,
    )
    db.session.add(share_class)
    db.session.commit()
    return share_class


def make_member_share_class() -> ShareClass:
    """The issue's "Ledenaandeel": € 25, one required to be a member."""
    return make_share_class(
        "ledenaandeel",
        2500,
        max_per_member=1,
        required=True,
        name_nl="Ledenaandeel",
        name_en="Member share",
    )


def membership_of(email: str = "member@example.org", **kw) -> Membership:
    """An active member's membership (made with tests.factories.make_member)."""
    user = make_member(email, **kw)
    return db.session.scalar(db.select(Membership).where(Membership.user_id == user.id))
