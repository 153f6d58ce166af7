"""The public directory of collectives."""

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request

from ..extensions import db
from ..models import Collective, Domain

bp = Blueprint("collectives", __name__, url_prefix="/collectives")


@bp.get("")
def index():
    """Published collectives, optionally of one domain (`?domain=energie`)."""
    domains = db.session.scalars(sa.select(Domain).order_by(Domain.position, Domain.id)).all()
    selected = next((d for d in domains if d.slug == request.args.get("domain")), None)
    query = (
        sa.select(Collective)
        .where(Collective.is_published)
        .options(
            sa.orm.selectinload(Collective.domains), sa.orm.joinedload(Collective.primary_domain)
        )
        .order_by(Collective.name)
    )
    if selected is not None:
        query = query.where(
            sa.or_(
                Collective.primary_domain_id == selected.id,
                Collective.domains.any(Domain.id == selected.id),
            )
        )
    collectives = db.session.scalars(query).unique().all()
    return render_template(
        "collectives/index.html", collectives=collectives, domains=domains, selected=selected
    )


@bp.get("/<slug>")
def show(slug: str):
    """One published collective."""
    collective = db.session.scalar(
        sa.select(Collective).where(Collective.slug == slug, Collective.is_published)
    )
    if collective is None:
        abort(404)
    return render_template("collectives/show.html", collective=collective)
