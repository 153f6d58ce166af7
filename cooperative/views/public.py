"""The home page, membership plans, and the health check."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import Event, MembershipPlan
from ..services import collectives

bp = Blueprint("public", __name__)

HOME_EVENT_COUNT = 6


@bp.get("/")
def index():
    """Home: the next events, and every domain with its published collectives and their
    upcoming events counted. A fixed number of queries."""
    events = db.session.scalars(
        Event.upcoming()
        .options(sa.orm.selectinload(Event.collective), sa.orm.selectinload(Event.meal_options))
        .limit(HOME_EVENT_COUNT)
    ).all()
    return render_template(
        "public/index.html", events=events, domains=collectives.domain_overview()
    )


@bp.get("/join")
def join():
    """The membership plans side by side."""
    plans = db.session.scalars(
        sa.select(MembershipPlan)
        .where(MembershipPlan.is_active)
        .order_by(MembershipPlan.position, MembershipPlan.id)
    ).all()
    return render_template("public/join.html", plans=plans)


@bp.get("/healthz")
def healthz():
    """200 when the app and its database answer, 503 when the database does not."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
