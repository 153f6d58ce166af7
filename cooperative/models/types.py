"""Column types, columns and mixins shared by the models."""

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC on every database.

    SQLite keeps no offset, so values are stored as naive UTC and come back aware.
    Naive values are refused: a time without a zone is a bug waiting to happen.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def StrEnumType(enum_class) -> Enum:  # noqa: N802 - reads like a type in column definitions
    """Store a StrEnum as its value in a VARCHAR (no database enum type to migrate)."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def unique_where(name: str, *columns: str, where: str) -> sa.Index:
    """A unique index over only the rows that match `where` (a partial index), with the
    condition given to both databases the app runs on: each ignores the other's."""
    return sa.Index(
        name, *columns, unique=True, postgresql_where=sa.text(where), sqlite_where=sa.text(where)
    )


def by_account(**kwargs) -> so.MappedColumn:
    """The account that did something to a row (posted, decided, recorded, uploaded it):
    the one rule for such columns is that the row outlives the account, so the column
    becomes NULL when the account is deleted. `kwargs` go to the column (`index=True`)."""
    return so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), **kwargs)


class NamedInTwoLanguages:
    """A row the site names in Dutch and in English (its `name_nl` and `name_en`)."""

    def name(self, locale: str) -> str:
        """The name in `locale`: the English one when English is asked for, else the Dutch."""
        return self.name_en if locale == "en" else self.name_nl
