"""A list shown a page at a time: the one way to ask the database for a page and learn
whether another follows (one row more than the page holds, never a count)."""

import sqlalchemy as sa

from .extensions import db


def one_page(query: sa.Select, page: int, size: int) -> tuple[list, bool]:
    """The rows of page `page` (from 1; below 1 counts as 1) of `query`, `size` a page,
    and whether there are more after them. One query."""
    rows = db.session.scalars(query.limit(size + 1).offset((max(page, 1) - 1) * size)).all()
    return list(rows[:size]), len(rows) > size
