"""Membership plans as the admins keep them: creating and changing one.

A plan in use is closed (`is_active`), never deleted. Services flush; the caller commits.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import MembershipPlan, PlanPeriod
from ..slugs import refuse_unusable_slug
from .details import copy_details, row_to_change

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
    refuse_unusable_slug(
        MembershipPlan.slug,
        details.slug,
        SLUG_MAX_LENGTH,
        plan.id if plan else None,
        _l("Another plan has this short name."),
    )
    plan = row_to_change(MembershipPlan, plan)
    copy_details(plan, details, ("slug", "name_nl", "name_en", "fee_cents"))
    copy_details(plan, details, ("description_nl", "description_en"), lambda text: text or "")
    copy_details(plan, details, ("needs_approval", "is_active"), bool)
    plan.period = PlanPeriod(details.period)
    plan.position = details.position or 0
    db.session.flush()
    return plan
