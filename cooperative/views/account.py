"""A logged-in person's own pages."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Event, Registration

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("/")
@login_required
def index():
    """My account: who I am here."""
    return render_template("account/index.html")


@bp.get("/registrations")
@login_required
def registrations():
    """My registrations: those made while logged in, and those made as a guest with my
    confirmed address. Coming events first, then the past ones."""
    mine = Registration.user_id == current_user.id
    if current_user.email_confirmed:
        mine = sa.or_(mine, Registration.contact_email == current_user.email)
    rows = db.session.scalars(
        sa.select(Registration)
        .join(Registration.event)
        .where(mine)
        .options(
            sa.orm.contains_eager(Registration.event),
            sa.orm.selectinload(Registration.attendees),
        )
        .order_by(Event.starts_at.desc(), Registration.id.desc())
    ).all()
    return render_template("account/registrations.html", registrations=rows)
