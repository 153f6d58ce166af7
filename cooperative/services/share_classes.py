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
from ..slugs import refuse_unusable_slug
from .details import copy_details, row_to_change

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
    refuse_unusable_slug(
        ShareClass.slug,
        details.slug,
        SLUG_MAX_LENGTH,
        share_class.id if share_class else None,
        _l("Another class has this short name."),
    )
    if details.amount_cents <= 0:
        raise Refused(_l("A share costs more than nothing."), "amount")
    if details.max_per_member is not None and details.max_per_member < 1:
        raise Refused(_l("The maximum is at least 1, or empty for no maximum."), "max_per_member")
    if details.required and details.holders != ShareHolders.PERSONS:
        raise Refused(_l("Only a class for persons can be required for joining."), "required")
    share_class = row_to_change(ShareClass, share_class)
    copy_details(
        share_class, details, ("slug", "name_nl", "name_en", "amount_cents", "max_per_member")
    )
    copy_details(share_class, details, ("required", "is_open", "needs_approval"), bool)
    share_class.holders = ShareHolders(details.holders)
    share_class.position = details.position or 0
    db.session.flush()
    return share_class
