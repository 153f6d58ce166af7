"""Slugs: the readable part of a page's address, like `buurtdiner-in-de-pijp`."""

import re
import unicodedata

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from .extensions import db
from .refusals import Refused

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slug_is_valid(slug: str, max_length: int) -> bool:
    """Lower-case ASCII letters and digits in words joined by single hyphens."""
    return len(slug) <= max_length and SLUG_RE.fullmatch(slug) is not None


def slugify(text: str, max_length: int, fallback: str) -> str:
    """`Buurtdiner in de Pijp: één avond!` -> `buurtdiner-in-de-pijp-een-avond`.

    Room is left for a `-2` suffix; `fallback` when nothing of the text is left.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[: max_length - 10].rstrip("-") or fallback


def slug_taken(column, slug: str, own_id: int | None = None) -> bool:
    """Whether another row than `own_id` has `slug` in `column` (e.g. `Event.slug`)."""
    model = column.class_
    query = sa.select(model.id).where(column == slug)
    if own_id is not None:
        query = query.where(model.id != own_id)
    return db.session.scalar(query.limit(1)) is not None


def refuse_unusable_slug(column, slug: str, max_length: int, own_id, taken) -> None:
    """The one rule for a short name an admin types (`column`, e.g. `Domain.slug`).

    Refuses (on `slug`) one that is not lower-case letters, digits and hyphens within
    `max_length`, and one another row than `own_id` has (`taken` says so)."""
    if not slug_is_valid(slug, max_length):
        raise Refused(_l("Use lower-case letters, digits and hyphens only."), "slug")
    if slug_taken(column, slug, own_id):
        raise Refused(taken, "slug")


def free_slug(column, text: str, max_length: int, fallback: str, own_id=None) -> str:
    """A slug made from `text` that no other row has yet (`-2`, `-3`... added)."""
    base = slugify(text, max_length, fallback)
    slug, number = base, 1
    while slug_taken(column, slug, own_id):
        number += 1
        slug = f"{base}-{number}"
    return slug
