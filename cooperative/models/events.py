"""Events, their meals, and the registrations of the people who come."""

import enum
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import StrEnumType, UTCDateTime, by_account, utcnow

DIETS = ("vegetarian", "vegan", "halal", "gluten_free", "lactose_free", "nut_allergy", "other")

# How many hours before the start people get their reminder (the event's `reminder_hours`):
# a day by default, 0 for none, at most two weeks.
DEFAULT_REMINDER_HOURS = 24
MAX_REMINDER_HOURS = 14 * 24


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class PaymentMode(enum.StrEnum):
    """How people pay an event's tickets and meals."""

    DOOR = "door"
    ONLINE = "online"
    BOTH = "both"


class RegistrationStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class PaymentState(enum.StrEnum):
    NONE = "none"
    DUE_AT_DOOR = "due_at_door"
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"


class Event(db.Model):
    """Something people come to: an evening, a workshop, a meeting, often with a meal."""

    __tablename__ = "events"
    __table_args__ = (
        # One event per date of a series, however many workers make occurrences at once.
        sa.UniqueConstraint("series_id", "occurrence_date", name="uq_events_series_occurrence"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    summary: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    venue: so.Mapped[str] = so.mapped_column(sa.String(160), default="")
    address: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    collective_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("collectives.id", ondelete="SET NULL"), index=True
    )
    audience: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    capacity: so.Mapped[int | None]
    ticket_price_cents: so.Mapped[int] = so.mapped_column(default=0)
    max_party_size: so.Mapped[int] = so.mapped_column(default=6)
    payment_mode: so.Mapped[PaymentMode] = so.mapped_column(
        StrEnumType(PaymentMode), default=PaymentMode.DOOR, server_default=PaymentMode.DOOR.value
    )
    # Cancelling a paid registration refunds it until this time (None: until the start).
    refund_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    registration_opens_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    registration_closes_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    status: so.Mapped[EventStatus] = so.mapped_column(
        StrEnumType(EventStatus), default=EventStatus.DRAFT
    )
    # Hours before the start that registered people are reminded by e-mail; 0: never.
    reminder_hours: so.Mapped[int] = so.mapped_column(
        default=DEFAULT_REMINDER_HOURS, server_default=str(DEFAULT_REMINDER_HOURS)
    )
    # When the kitchen's summary went to the organisers (sent once: services/reminders.py).
    kitchen_summary_sent_at: so.Mapped[datetime | None] = so.mapped_column(
        UTCDateTime, info=NOT_ON_PUBLIC_PAGES
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # The collaboration (koppel, Green Deal, ...) this is a meeting or session of.
    collaboration_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("collaborations.id", ondelete="SET NULL"), index=True
    )
    # An occurrence of a series, and the (local) date the series' rule gave it.
    series_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("event_series.id", ondelete="SET NULL"), index=True
    )
    occurrence_date: so.Mapped[date | None] = so.mapped_column(sa.Date)

    collective: so.Mapped["Collective | None"] = so.relationship()  # noqa: F821
    series: so.Mapped["EventSeries | None"] = so.relationship()  # noqa: F821
    meal_options: so.Mapped[list["MealOption"]] = so.relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="MealOption.position",
    )
    # The general meeting held at this event, if it is one: the public sees only that
    # it exists (title and time), members see the rest at /meetings/<slug>.
    meeting: so.Mapped["Meeting | None"] = so.relationship(  # noqa: F821
        back_populates="event", uselist=False
    )

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"

    @property
    def seats_left(self) -> int | None:
        """Seats not taken by confirmed or held attendees; None when there is no limit."""
        if self.capacity is None:
            return None
        return max(0, self.capacity - self.seats_taken)

    @property
    def is_full(self) -> bool:
        return self.seats_left == 0

    @property
    def host(self) -> "Collective | None":  # noqa: F821
        """The host collective as the public may see it: only once it is published."""
        collective = self.collective
        return collective if collective is not None and collective.is_published else None

    @property
    def refund_deadline(self) -> datetime:
        return self.refund_until or self.starts_at

    @property
    def registration_closes(self) -> datetime:
        """Registration closes at its set time, or when the event starts."""
        return self.registration_closes_at or self.starts_at

    @property
    def reminder_at(self) -> datetime | None:
        """When registered people are reminded: `reminder_hours` before the start; None
        when the organisers chose no reminder (0)."""
        if not self.reminder_hours:
            return None
        return self.starts_at - timedelta(hours=self.reminder_hours)

    @property
    def kitchen_summary_at(self) -> datetime | None:
        """When the kitchen's summary goes to the organisers: when sign-up for the last of
        the event's meals closes. A meal without a deadline of its own closes for the
        kitchen at the reminder time (a day before the start when reminders are off), or
        when registration closes if that is sooner; people may still choose it after
        that, and the attendance list keeps counting. None: the event has no meals."""
        if not self.meal_options:
            return None
        kitchen_time = min(
            self.registration_closes,
            self.starts_at - timedelta(hours=self.reminder_hours or DEFAULT_REMINDER_HOURS),
        )
        return max(option.signup_deadline or kitchen_time for option in self.meal_options)

    def clock_changes_at(self, now: datetime) -> datetime | None:
        """The next moment after `now` at which this event's page changes by the clock
        alone: registration opens or closes, a meal's sign-up deadline passes, it ends."""
        moments = [
            self.registration_opens_at,
            self.registration_closes,
            self.ends_at,
            *(option.signup_deadline for option in self.meal_options),
        ]
        return min((moment for moment in moments if moment and moment > now), default=None)

    def registration_state(self, now: datetime | None = None) -> str:
        """`open`, or why not: `cancelled`, `draft`, `not_yet` or `closed`."""
        now = now or utcnow()
        if self.status == EventStatus.CANCELLED:
            return "cancelled"
        if self.status == EventStatus.DRAFT:
            return "draft"
        if self.registration_opens_at and now < self.registration_opens_at:
            return "not_yet"
        if now >= self.registration_closes:
            return "closed"
        return "open"

    @classmethod
    def upcoming(cls, now: datetime | None = None) -> sa.Select:
        """Published events that have not ended, soonest first."""
        return (
            sa.select(cls)
            .where(cls.status == EventStatus.PUBLISHED, cls.ends_at >= (now or utcnow()))
            .order_by(cls.starts_at, cls.id)
        )


class MealOption(db.Model):
    """A meal people can sign up for at an event, with its price and diets."""

    __tablename__ = "meal_options"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    event_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(160))
    price_cents: so.Mapped[int] = so.mapped_column(default=0)
    pwyc_min_cents: so.Mapped[int | None]
    pwyc_suggested_cents: so.Mapped[int | None]
    capacity: so.Mapped[int | None]
    signup_deadline: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    diets: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    position: so.Mapped[int] = so.mapped_column(default=0)

    event: so.Mapped[Event] = so.relationship(back_populates="meal_options")

    @property
    def pay_what_you_can(self) -> bool:
        return self.pwyc_min_cents is not None

    @property
    def suggested_cents(self) -> int:
        """What a meal costs unless the person chooses another amount."""
        if self.pay_what_you_can:
            return self.pwyc_suggested_cents or max(self.price_cents, self.pwyc_min_cents or 0)
        return self.price_cents

    @property
    def meals_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(0, self.capacity - self.meals_taken)

    def signup_open(self, now: datetime | None = None) -> bool:
        return self.signup_deadline is None or (now or utcnow()) < self.signup_deadline


# Registrations whose attendees take seats and meals.
HOLDING = (RegistrationStatus.CONFIRMED, RegistrationStatus.PENDING_PAYMENT)


class Registration(db.Model):
    """One party's registration for an event: who to contact, its state and what it owes."""

    __tablename__ = "registrations"
    __table_args__ = (sa.Index("ix_registrations_event_status", "event_id", "status"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    event_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    contact_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    contact_email: so.Mapped[str] = so.mapped_column(sa.String(254), index=True)
    locale: so.Mapped[str] = so.mapped_column(sa.String(5), default="nl")
    status: so.Mapped[RegistrationStatus] = so.mapped_column(StrEnumType(RegistrationStatus))
    manage_token: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    amount_due_cents: so.Mapped[int] = so.mapped_column(default=0)
    amount_paid_cents: so.Mapped[int] = so.mapped_column(default=0)
    payment_state: so.Mapped[PaymentState] = so.mapped_column(
        StrEnumType(PaymentState), default=PaymentState.NONE
    )
    hold_expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # When the reminder before the event went out (or the waiting list's "still waiting"):
    # set once, by the one conditional UPDATE that claims it (services/reminders.py).
    reminded_at: so.Mapped[datetime | None] = so.mapped_column(
        UTCDateTime, info=NOT_ON_PUBLIC_PAGES
    )
    # The party asked for no more announcements about this event (the one-click
    # unsubscribe in one of them); its reminders and the organisers' messages still go.
    announcements_off: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false(), info=NOT_ON_PUBLIC_PAGES
    )

    event: so.Mapped[Event] = so.relationship()
    user: so.Mapped["User | None"] = so.relationship()  # noqa: F821
    attendees: so.Mapped[list["Attendee"]] = so.relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="Attendee.id"
    )

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.status}>"

    @property
    def token(self) -> str:
        """The secret in the private link `/r/<token>`: the row id, then the random part."""
        return f"{self.id}-{self.manage_token}"

    @property
    def active_attendees(self) -> list["Attendee"]:
        return [a for a in self.attendees if a.cancelled_at is None]

    @property
    def is_active(self) -> bool:
        return self.status != RegistrationStatus.CANCELLED

    def can_change(self, now: datetime | None = None) -> bool:
        """A registration can be changed or cancelled until its event starts."""
        return self.is_active and (now or utcnow()) < self.event.starts_at

    @property
    def amount_open_cents(self) -> int:
        return max(0, self.amount_due_cents - self.amount_paid_cents)


class Attendee(db.Model):
    """One person in a party: their meal, diet and ticket."""

    __tablename__ = "attendees"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    registration_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    meal_option_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("meal_options.id", ondelete="SET NULL"), index=True
    )
    meal_price_cents: so.Mapped[int] = so.mapped_column(default=0)
    diets: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    diet_note: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    ticket_code: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    cancelled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Who came is for the organisers only: checking in leaves the public pages alone.
    checked_in_at: so.Mapped[datetime | None] = so.mapped_column(
        UTCDateTime, info=NOT_ON_PUBLIC_PAGES
    )
    checked_in_by_id: so.Mapped[int | None] = by_account(info=NOT_ON_PUBLIC_PAGES)

    registration: so.Mapped[Registration] = so.relationship(back_populates="attendees")
    meal_option: so.Mapped[MealOption | None] = so.relationship()

    @property
    def ticket(self) -> str:
        """The code on the ticket and in its link `/t/<ticket>`: row id, then random part."""
        return f"{self.id}-{self.ticket_code}"


class CheckInRecord(db.Model):
    """Who checked a person in at the door, or took it back, and when: the door's trail."""

    __tablename__ = "check_in_records"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    attendee_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("attendees.id", ondelete="CASCADE"), index=True
    )
    action: so.Mapped[str] = so.mapped_column(sa.String(10))  # "check_in" or "undo"
    by_id: so.Mapped[int | None] = by_account()
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


def places_taken() -> sa.Select:
    """The one count of places taken: the people, not cancelled, of parties that hold a
    place (HOLDING: confirmed or paying online). Narrowed to an event it is the seats
    taken, to a meal option the meals taken; every check of what is left counts this way.
    """
    return (
        sa.select(sa.func.count(Attendee.id))
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(Attendee.cancelled_at.is_(None), Registration.status.in_(HOLDING))
    )


# Counted in the same query that loads an event or meal option, so a list of events costs
# no query per event.
Event.seats_taken = so.column_property(
    places_taken().where(Registration.event_id == Event.id).scalar_subquery(),
    deferred=False,
)
MealOption.meals_taken = so.column_property(
    places_taken().where(Attendee.meal_option_id == MealOption.id).scalar_subquery(),
    deferred=False,
)
