"""The version of what public pages show, for the page cache (cooperative/page_cache.py)."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db


class PageVersion(db.Model):
    """One row whose number goes up in every transaction that changes something a public
    page shows. Each app process keeps pages for anonymous visitors in memory and answers
    from memory only while this number is the one the page was made at."""

    __tablename__ = "page_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
