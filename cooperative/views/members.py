"""The members' directory (for active members) and members' own profile pages.

Who sees a profile is the owner's choice, checked here in one place (`visible_profiles`):
`hidden` appears nowhere; `members` only to active members; `public` also has a page for
everyone. Only profiles of active members are shown at all.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from ..extensions import db, htmx
from ..forms.fields import strip
from ..i18n import current_locale
from ..models import Domain, Membership, MembershipStatus, Profile, User, Visibility
from ..services import membership as memberships

bp = Blueprint("members", __name__, url_prefix="/members")

PAGE_SIZE = 50


def visible_profiles(viewer) -> sa.Select:
    """Profiles `viewer` (maybe anonymous) may see: active members' public profiles, and
    their members-only profiles when the viewer is an active member."""
    allowed = [Visibility.PUBLIC]
    if memberships.is_active_member(viewer):
        allowed.append(Visibility.MEMBERS)
    active = (
        sa.select(Membership.id)
        .where(Membership.user_id == Profile.user_id, Membership.status == MembershipStatus.ACTIVE)
        .exists()
    )
    return sa.select(Profile).where(Profile.visibility.in_(allowed), active)


@bp.get("/")
@login_required
def index():
    """The directory, with filters by neighbourhood and interest; members only."""
    if not memberships.is_active_member(current_user):
        return render_template("members/members_only.html"), 403
    neighbourhood = strip(request.args.get("neighbourhood", ""))
    interest = strip(request.args.get("interest", ""))
    query = visible_profiles(current_user)
    if neighbourhood:
        query = query.where(sa.func.lower(Profile.neighbourhood) == neighbourhood.lower())
    if interest:
        query = query.where(Profile.interests.any(Domain.slug == interest))
    profiles = db.session.scalars(
        query.options(sa.orm.selectinload(Profile.interests))
        .order_by(sa.func.lower(Profile.display_name), Profile.user_id)
        .limit(PAGE_SIZE)
    ).all()
    neighbourhoods = db.session.scalars(
        visible_profiles(current_user)
        .with_only_columns(Profile.neighbourhood)
        .where(Profile.neighbourhood != "")
        .distinct()
        .order_by(Profile.neighbourhood)
    ).all()
    domains = db.session.scalars(sa.select(Domain).order_by(Domain.position, Domain.id)).all()
    template = (
        "members/_list.html" if htmx and htmx.target == "member-list" else "members/index.html"
    )
    return render_template(
        template,
        profiles=profiles,
        neighbourhoods=neighbourhoods,
        domains=domains,
        chosen={"neighbourhood": neighbourhood, "interest": interest},
        locale=current_locale(),
    )


@bp.get("/<int:user_id>")
def show(user_id: int):
    """A member's profile page, when its owner lets this visitor see it; else 404."""
    profile = db.session.scalar(
        visible_profiles(current_user)
        .where(Profile.user_id == user_id)
        .options(sa.orm.selectinload(Profile.interests))
    )
    if profile is None and current_user.is_authenticated and current_user.id == user_id:
        profile = db.session.get(Profile, user_id)
        if profile is None or profile.visibility == Visibility.HIDDEN:
            profile = None
    if profile is None:
        abort(404)
    return render_template("members/show.html", profile=profile, user=db.session.get(User, user_id))


@bp.app_context_processor
def _membership_helpers() -> dict:
    """`is_active_member(user)` for templates (the "Members" link in the menu)."""
    return {"is_active_member": memberships.is_active_member}
