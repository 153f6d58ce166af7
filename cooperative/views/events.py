"""Public event pages."""

import sqlalchemy as sa
from flask import Blueprint, abort, render_template

from ..extensions import db
from ..models import Event, EventStatus

bp = Blueprint("events", __name__, url_prefix="/events")


@bp.get("")
def index():
    """Upcoming published events, soonest first."""
    events = db.session.scalars(
        Event.upcoming().options(
            sa.orm.selectinload(Event.collective), sa.orm.selectinload(Event.meal_options)
        )
    ).all()
    return render_template("events/index.html", events=events)


@bp.get("/<slug>")
def show(slug: str):
    """One event; drafts are not shown to the public."""
    event = db.session.scalar(
        sa.select(Event)
        .where(Event.slug == slug, Event.status != EventStatus.DRAFT)
        .options(sa.orm.selectinload(Event.meal_options), sa.orm.joinedload(Event.collective))
    )
    if event is None:
        abort(404)
    return render_template("events/show.html", event=event)
