"""Share classes as the admins keep them: creating, changing and closing one.

A class in use is closed (`is_open`), never deleted. A new price counts for purchases from
then on: issued shares keep the amount they were bought for. Services flush; the caller
commits.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import ShareClass, ShareHolders
from ..refusals import Refused
from ..slugs import slug_is_valid, slug_taken

SLUG_MAX_LENGTH = ShareClass.__table__.c.slug.type.length


@dataclass(frozen=True)
class ShareClassDetails:
    """What an admin fills in for a class of shares."""

    slug: str
    name_nl: str
    name_en: str
    amount_cents: int
    required: bool = False
    max_per_member: int | None = None
    is_open: bool = True
    holders: ShareHolders = ShareHolders.PERSONS
    needs_approval: bool = False
    position: int = 0


def save_share_class(share_class: ShareClass | None, details: ShareClassDetails) -> ShareClass:
    """Create a class (`share_class` None) or change one to `details`.

    Refuses a short name that is not lower-case letters, digits and hyphens or that
    another class has (on `slug`), an amount of nothing (on `amount`), a maximum below
    one (on `max_per_member`), and a required class for legal persons (on `required`).
    """
    if not slug_is_valid(details.slug, SLUG_MAX_LENGTH):
        raise Refused(_l("Use lower-case letters, digits and hyphens only."), "slug")
    if slug_taken(ShareClass.slug, details.slug, share_class.id if share_class else None):
        raise Refused(_l("Another class has this short name."), "slug")
    if details.amount_cents <= 0:
        raise Refused(_l("A share costs more than nothing."), "amount")
    if details.max_per_member is not None and details.max_per_member < 1:
        raise Refused(_l("The maximum is at least 1, or empty for no maximum."), "max_per_member")
    if details.required and details.holders != ShareHolders.PERSONS:
        raise Refused(_l("Only a class for persons can be required for joining."), "required")
    if share_class is None:
        share_class = ShareClass()
        db.session.add(share_class)
    share_class.slug = details.slug
    share_class.name_nl = details.name_nl
    share_class.name_en = details.name_en
    share_class.amount_cents = details.amount_cents
    share_class.required = bool(details.required)
    share_class.max_per_member = details.max_per_member
    share_class.is_open = bool(details.is_open)
    share_class.holders = ShareHolders(details.holders)
    share_class.needs_approval = bool(details.needs_approval)
    share_class.position = details.position or 0
    db.session.flush()
    return share_class
