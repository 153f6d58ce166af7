"""The members' directory (for active members) and members' own profile pages.

Who sees a profile is the owner's choice, checked in one place: `services.profiles`.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, g, render_template, request
from flask_login import current_user, login_required

from ..extensions import db, htmx
from ..forms.filters import DirectoryFilterForm
from ..i18n import current_locale
from ..models import Domain, User
from ..services import membership as memberships
from ..services import profiles as profile_service

bp = Blueprint("members", __name__, url_prefix="/members")


@bp.get("/")
@login_required
def index():
    """The directory, with filters by neighbourhood and interest; members only."""
    if not visitor_is_member():
        return render_template("members/members_only.html"), 403
    form = DirectoryFilterForm(request.args)
    neighbourhood, interest = form.neighbourhood.data or "", form.interest.data or ""
    profiles = profile_service.directory(current_user, neighbourhood, interest)
    neighbourhoods = profile_service.neighbourhoods(current_user)
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
    profile = profile_service.profile_to_show(current_user, user_id)
    if profile is None:
        abort(404)
    return render_template("members/show.html", profile=profile, user=db.session.get(User, user_id))


def visitor_is_member() -> bool:
    """Whether the person looking at the page is an active member now: asked once a
    request, however often the menu, the footer and the page ask."""
    if "visitor_is_member" not in g:
        g.visitor_is_member = memberships.is_active_member(current_user)
    return g.visitor_is_member


@bp.app_context_processor
def _membership_helpers() -> dict:
    """`visitor_is_member()` for templates: the menu's "Members" link, and no invitation
    to join for who is a member already."""
    return {"visitor_is_member": visitor_is_member}
