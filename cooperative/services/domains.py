"""Domains (areas of the economy) as the admins keep them: creating and renaming one.

Collectives and members choose from them (`collectives.all_domains`). Services flush;
the caller commits.
"""

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Domain
from ..refusals import Refused
from ..slugs import slug_is_valid, slug_taken

SLUG_MAX_LENGTH = Domain.__table__.c.slug.type.length


def save_domain(
    domain: Domain | None, slug: str, name_nl: str, name_en: str, position: int = 0
) -> Domain:
    """Create a domain (`domain` None) or rename one.

    Refuses (on `slug`) a short name that is not lower-case letters,
    digits and hyphens, or that another domain has.
    """
    if not slug_is_valid(slug, SLUG_MAX_LENGTH):
        raise Refused(_l("Use lower-case letters, digits and hyphens only."), "slug")
    if slug_taken(Domain.slug, slug, domain.id if domain else None):
        raise Refused(_l("Another domain has this short name."), "slug")
    if domain is None:
        domain = Domain()
        db.session.add(domain)
    domain.slug = slug
    domain.name_nl = name_nl
    domain.name_en = name_en
    domain.position = position or 0
    db.session.flush()
    return domain
