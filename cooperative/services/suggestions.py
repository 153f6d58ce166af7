"""Suggestions for the directory: anyone suggests a collective, an admin accepts it (as a
draft collective) or rejects it."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Collective, CollectiveSuggestion, Domain, SuggestionStatus, User
from ..refusals import Refused
from .collectives import collective_slug
from .mail import external_url, queue_mail


def suggest_collective(
    name: str,
    domain_id: int | None,
    neighbourhood: str,
    website: str,
    contact_email: str,
    reason: str,
    locale: str,
) -> CollectiveSuggestion:
    """Put a suggested collective in the admins' queue and e-mail every admin about it."""
    suggestion = CollectiveSuggestion(
        name=name,
        domain_id=domain_id,
        neighbourhood=neighbourhood,
        website=website,
        contact_email=contact_email,
        reason=reason,
        locale=locale,
        status=SuggestionStatus.NEW,
    )
    db.session.add(suggestion)
    db.session.flush()
    domain = db.session.get(Domain, domain_id) if domain_id else None
    queue_url = external_url("admin_collectives.suggestions")
    for admin in db.session.scalars(sa.select(User).where(User.is_admin)):
        queue_mail(
            admin.email,
            _l("Suggested for the directory: %(name)s", name=name),
            "collective_suggested",
            admin.locale or "nl",
            suggestion=suggestion,
            domain=domain,
            admin=admin,
            queue_url=queue_url,
        )
    return suggestion


def accept_suggestion(suggestion: CollectiveSuggestion, admin: User) -> Collective:
    """Turn a waiting suggestion into a draft collective. Refuses one already decided."""
    if suggestion.status != SuggestionStatus.NEW:
        raise Refused(_l("This suggestion has already been dealt with."))
    domain = suggestion.domain or db.session.scalar(
        sa.select(Domain).order_by(Domain.position, Domain.id).limit(1)
    )
    if domain is None:
        raise Refused(_l("Add a domain first: every collective needs one."))
    collective = Collective(
        slug=collective_slug(suggestion.name),
        name=suggestion.name,
        primary_domain=domain,
        neighbourhood=suggestion.neighbourhood,
        website=suggestion.website,
        contact_email=suggestion.contact_email,
        is_published=False,
    )
    db.session.add(collective)
    suggestion.collective = collective
    suggestion.status = SuggestionStatus.ACCEPTED
    suggestion.decided_by_id = admin.id
    db.session.flush()
    return collective


def reject_suggestion(suggestion: CollectiveSuggestion, admin: User) -> None:
    """Take a waiting suggestion out of the queue. Refuses one already decided."""
    if suggestion.status != SuggestionStatus.NEW:
        raise Refused(_l("This suggestion has already been dealt with."))
    suggestion.status = SuggestionStatus.REJECTED
    suggestion.decided_by_id = admin.id
    db.session.flush()
