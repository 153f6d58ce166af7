"""What public pages show, for the page cache (cooperative/page_cache.py): the version they
are at, and the tables and columns that they do not show."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db

# The `info` (SQLAlchemy's place for notes on a table or column) of a table or column that
# no public page shows: a transaction that writes only those leaves the kept pages alone.
# Every other table and column counts as shown, so a new one is safe without a word.
NOT_ON_PUBLIC_PAGES = {"on_public_pages": False}


def on_public_pages(table_or_column: sa.Table | sa.Column) -> bool:
    """Whether a public page may show this table or column (unless it says otherwise)."""
    return table_or_column.info.get("on_public_pages", True)


class PageVersion(db.Model):
    """One row whose number goes up in every transaction that changes something a public
    page shows. Each app process keeps pages for anonymous visitors in memory and answers
    from memory only while this number is the one the page was made at."""

    __tablename__ = "page_versions"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
