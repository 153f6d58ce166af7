"""Who is programme staff (/admin/programme-staff): admins give the role to an account by
its e-mail address, and take it away. Programme staff form koppels, publish and moderate
the collaborations with the city (`User.runs_programme`). Each change is in the audit log.

Admins only: others get 403, whoever is not logged in is sent to the log-in page.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..forms.collaborations import ProgrammeStaffForm
from ..models import User
from ..services import audit
from ..services import collaborations as service
from .decorators import admin_required
from .going_back import commit_or_redraw

bp = Blueprint("admin_programme", __name__, url_prefix="/admin/programme-staff")


def _log(user: User, staff: bool) -> None:
    """The audit log's line for `user` becoming programme staff (`staff`), or ceasing to."""
    audit.record(
        current_user,
        "programme_staff.add" if staff else "programme_staff.remove",
        subject_user_id=user.id,
        before={"programme_staff": not staff},
        after={"programme_staff": staff},
    )


@bp.route("/", methods=["GET", "POST"])
@admin_required
def index():
    """The programme staff, and the form that adds one."""
    form = ProgrammeStaffForm() if request.method == "POST" else ProgrammeStaffForm(formdata=None)

    def give_role() -> User:
        user = service.make_programme_staff(form.email.data)
        _log(user, True)
        return user

    return commit_or_redraw(
        form,
        give_role,
        done=lambda user: _("%(person)s is programme staff now.", person=user.name or user.email),
        to=url_for("admin_programme.index"),
        default="email",
        redraw=lambda status: (
            render_template(
                "admin/programme_staff.html", form=form, staff=service.programme_staff()
            ),
            status,
        ),
    )


@bp.post("/<int:user_id>/remove")
@admin_required
def remove(user_id: int):
    """Take the programme-staff role away from one person."""
    user = db.get_or_404(User, user_id)
    if user.is_programme_staff:
        service.end_programme_staff(user)
        _log(user, False)
        db.session.commit()
    flash(_("%(person)s is no longer programme staff.", person=user.name or user.email), "success")
    return redirect(url_for("admin_programme.index"), code=303)
