"""Event series: a recurrence rule and a template that make ordinary events ahead of time.

The rule is an RFC 5545 RRULE (`FREQ=WEEKLY;INTERVAL=2;BYDAY=TU`, with `UNTIL` in UTC when
the series ends), read with python-dateutil from the first date at the local start time
(Europe/Amsterdam): each occurrence keeps its wall-clock time across the clock changes.
The template holds what every occurrence copies (place, seats, prices, meals); the
occurrences themselves are ordinary `Event` rows with `series_id` and `occurrence_date`.
"""

from datetime import date, datetime, time

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import UTCDateTime, utcnow

DEFAULT_HORIZON_WEEKS = 8


class EventSeries(db.Model):
    """A collective's recurring event ("Elke dinsdag buurtmaaltijd")."""

    __tablename__ = "event_series"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id", ondelete="CASCADE"), index=True
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    # The RRULE value without its name, e.g. `FREQ=MONTHLY;BYDAY=2SA`.
    rule: so.Mapped[str] = so.mapped_column(sa.String(300))
    first_date: so.Mapped[date] = so.mapped_column(sa.Date)
    start_time: so.Mapped[time] = so.mapped_column(sa.Time)  # local wall-clock time
    duration_minutes: so.Mapped[int]
    # The last day occurrences may fall on (also written into the rule's UNTIL), or None.
    until: so.Mapped[date | None] = so.mapped_column(sa.Date)
    # Days the rule gives that are not held (ISO dates), e.g. cancelled ones.
    exception_dates: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    horizon_weeks: so.Mapped[int] = so.mapped_column(default=DEFAULT_HORIZON_WEEKS)
    # What each occurrence copies: the fields of `services.events.EventPlan` other than
    # its title, slug and times, and its meals with their deadline in minutes before.
    template: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    collective: so.Mapped["Collective"] = so.relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<EventSeries {self.id} {self.rule}>"

    @property
    def exceptions(self) -> set[date]:
        return {date.fromisoformat(day) for day in self.exception_dates or []}
