"""The counters at the top of the attendance list and the kitchen summary: registered,
checked in, waiting, meals per meal and diet with the notes, and the money. One query.
"""

import json
from dataclasses import dataclass, field
from functools import lru_cache

import sqlalchemy as sa

from ...extensions import db
from ...models import (
    HOLDING,
    Attendee,
    Event,
    MealOption,
    Payment,
    PaymentProvider,
    PaymentStatus,
    Registration,
    RegistrationStatus,
)
from .lists import name_key


@dataclass
class MealCount:
    """How many of one meal to cook: in all, per combination of diets, and the notes."""

    option: MealOption
    count: int = 0
    diets: dict[tuple[str, ...], int] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (person, note)

    @property
    def diet_lines(self) -> list[tuple[tuple[str, ...], int]]:
        """(diets, count) with the special diets first, most wanted first; `()` last."""
        special = sorted(
            ((diets, count) for diets, count in self.diets.items() if diets),
            key=lambda item: (-item[1], item[0]),
        )
        plain = self.diets.get((), 0)
        return special + ([((), plain)] if plain else [])


@dataclass
class Summary:
    """The numbers at the top of the attendance list."""

    capacity: int | None
    parties: int = 0
    people: int = 0
    checked_in: int = 0
    waiting_parties: int = 0
    waiting_people: int = 0
    meals: list[MealCount] = field(default_factory=list)
    online_cents: int = 0
    door_cents: int = 0
    open_cents: int = 0


@lru_cache(maxsize=256)
def _diets_key(stored: str | None) -> tuple[str, ...]:
    """A person's diets as stored (JSON text), as a sorted tuple."""
    return tuple(sorted(json.loads(stored) if stored else []))


@lru_cache(maxsize=1)
def _summary_query() -> sa.Select:
    """The statement behind summary(), for the event in the parameter `event_id`: built
    once, as the counters ask for it every few seconds."""
    event_id = sa.bindparam("event_id", type_=sa.Integer)
    holding = Registration.status.in_(HOLDING)
    waiting = Registration.status == RegistrationStatus.WAITLISTED
    party = sa.orm.aliased(Registration)
    paid = sa.orm.aliased(Payment)

    def received(provider: str):
        return (
            sa.select(sa.func.coalesce(sa.func.sum(paid.amount_cents - paid.refunded_cents), 0))
            .join(party, paid.registration_id == party.id)
            .where(
                party.event_id == event_id,
                paid.provider == provider,
                paid.status.in_((PaymentStatus.PAID, PaymentStatus.REFUNDED)),
            )
            .scalar_subquery()
        )

    still_open = (
        sa.select(
            sa.func.coalesce(sa.func.sum(party.amount_due_cents - party.amount_paid_cents), 0)
        )
        .where(
            party.event_id == event_id,
            party.status.in_(HOLDING),
            party.amount_due_cents > party.amount_paid_cents,
        )
        .scalar_subquery()
    )
    # An aggregate without GROUP BY: always exactly one row, also for an empty event.
    totals = (
        sa.select(
            sa.func.count(sa.distinct(sa.case((holding, Registration.id)))).label("parties"),
            sa.func.count(sa.case((holding, Attendee.id))).label("people"),
            sa.func.count(sa.case((holding, Attendee.checked_in_at))).label("checked_in"),
            sa.func.count(sa.distinct(sa.case((waiting, Registration.id)))).label("waiting"),
            sa.func.count(sa.case((waiting, Attendee.id))).label("waiting_people"),
            received(PaymentProvider.STRIPE).label("online"),
            received(PaymentProvider.DOOR).label("door"),
            still_open.label("still_open"),
        )
        .select_from(Attendee)
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(Registration.event_id == event_id, Attendee.cancelled_at.is_(None))
        .subquery("totals")
    )
    # Who eats what, counted per meal and combination of diets; a person with a note for
    # the kitchen is a group of their own, so the note comes with their name.
    eater = (
        sa.select(
            Attendee.meal_option_id.label("meal"),
            sa.cast(Attendee.diets, sa.Text).label("diets"),
            sa.case((Attendee.diet_note != "", Attendee.id)).label("noted"),
            Attendee.name,
            Attendee.diet_note.label("note"),
        )
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(
            Registration.event_id == event_id,
            holding,
            Attendee.cancelled_at.is_(None),
            Attendee.meal_option_id.is_not(None),
        )
        .subquery("eater")
    )
    eaters = (
        sa.select(
            eater.c.meal,
            eater.c.diets,
            sa.func.count().label("eating"),
            sa.func.max(eater.c.name).label("name"),
            sa.func.max(eater.c.note).label("note"),
        )
        .group_by(eater.c.meal, eater.c.diets, eater.c.noted)
        .subquery("eaters")
    )
    # The totals beside each group of eaters (or once, beside nobody): one round trip.
    return sa.select(totals, eaters).select_from(totals.outerjoin(eaters, sa.true()))


def summary(event: Event) -> Summary:
    """Registered, checked in, waiting, meals per meal and diet with the notes, and the
    money received online, at the door, and still open. One query, however many people:
    the counters poll every few seconds from every phone at the door.

    People with a place are those of confirmed parties and of parties paying online.
    """
    found = db.session.execute(_summary_query(), {"event_id": event.id}).all()
    first = found[0]
    result = Summary(
        capacity=event.capacity,
        parties=first.parties,
        people=first.people,
        checked_in=first.checked_in,
        waiting_parties=first.waiting,
        waiting_people=first.waiting_people,
        online_cents=int(first.online or 0),
        door_cents=int(first.door or 0),
        open_cents=int(first.still_open or 0),
    )
    meals = {option.id: MealCount(option) for option in event.meal_options}
    for group in found:
        meal = meals.get(group.meal)
        if meal is None:
            continue
        meal.count += group.eating
        key = _diets_key(group.diets)
        meal.diets[key] = meal.diets.get(key, 0) + group.eating
        if group.note:
            meal.notes.append((group.name, group.note))
    for meal in meals.values():
        meal.notes.sort(key=lambda item: name_key(item[0]))
    result.meals = list(meals.values())
    return result
