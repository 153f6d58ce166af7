"""Domains (areas of the economy) as the admins keep them: creating and renaming one.

Collectives and members choose from them (`collectives.all_domains`). Services flush;
the caller commits.
"""

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Domain
from ..slugs import refuse_unusable_slug
from .details import row_to_change

SLUG_MAX_LENGTH = Domain.__table__.c.slug.type.length


def save_domain(
    domain: Domain | None, slug: str, name_nl: str, name_en: str, position: int = 0
) -> Domain:
    """Create a domain (`domain` None) or rename one.

    Refuses (on `slug`) a short name that is not lower-case letters,
    digits and hyphens, or that another domain has.
    """
    refuse_unusable_slug(
        Domain.slug,
        slug,
        SLUG_MAX_LENGTH,
        domain.id if domain else None,
        _l("Another domain has this short name."),
    )
    domain = row_to_change(Domain, domain)
    domain.slug = slug
    domain.name_nl = name_nl
    domain.name_en = name_en
    domain.position = position or 0
    db.session.flush()
    return domain
