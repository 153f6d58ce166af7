"""Membership plans as the admins keep them: creating and changing one.

A plan in use is closed (`is_active`), never deleted. Services flush; the caller commits.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import MembershipPlan, PlanPeriod
from ..refusals import Refused
from ..slugs import slug_is_valid, slug_taken

SLUG_MAX_LENGTH = MembershipPlan.__table__.c.slug.type.length


@dataclass(frozen=True)
class PlanDetails:
    """What an admin fills in for a plan."""

    slug: str
    name_nl: str
    name_en: str
    fee_cents: int
    period: PlanPeriod
    description_nl: str = ""
    description_en: str = ""
    needs_approval: bool = False
    is_active: bool = True
    position: int = 0


def save_plan(plan: MembershipPlan | None, details: PlanDetails) -> MembershipPlan:
    """Create a plan (`plan` None) or change one to `details`.

    Refuses (on `slug`) a short name that is not lower-case letters,
    digits and hyphens, or that another plan has.
    """
    if not slug_is_valid(details.slug, SLUG_MAX_LENGTH):
        raise Refused(_l("Use lower-case letters, digits and hyphens only."), "slug")
    if slug_taken(MembershipPlan.slug, details.slug, plan.id if plan else None):
        raise Refused(_l("Another plan has this short name."), "slug")
    if plan is None:
        plan = MembershipPlan()
        db.session.add(plan)
    plan.slug = details.slug
    plan.name_nl = details.name_nl
    plan.name_en = details.name_en
    plan.description_nl = details.description_nl or ""
    plan.description_en = details.description_en or ""
    plan.fee_cents = details.fee_cents
    plan.period = PlanPeriod(details.period)
    plan.needs_approval = bool(details.needs_approval)
    plan.is_active = bool(details.is_active)
    plan.position = details.position or 0
    db.session.flush()
    return plan
