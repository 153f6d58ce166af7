"""Seats and meals taken, counted one way.

`Event.seats_taken` and `MealOption.meals_taken` are column properties over
`models.events.places_taken()`: the event list, the event page and the API read them as
they load events. Registering, the waiting list, walk-ins and changing an event count them
afresh under the event's lock (`count_afresh`) and ask `fits` / `meal_short` what is left.
"""

from collections import Counter
from collections.abc import Iterable

import sqlalchemy as sa

from ..extensions import db
from ..models import Event, MealOption


def count_afresh(event: Event) -> None:
    """Count the seats and meals of `event` taken now, with what this transaction has
    written: `event.seats_taken` and its meal options' `meals_taken` are reloaded. Call it
    with the event locked, so the count holds until the commit."""
    db.session.flush()
    db.session.refresh(event, ["seats_taken"])
    db.session.scalars(
        sa.select(MealOption)
        .where(MealOption.event_id == event.id)
        .execution_options(populate_existing=True)
    ).all()


def meals_wanted(people: Iterable) -> Counter[int]:
    """How many of each meal option (by id) `people` (attendees or choices) want."""
    return Counter(person.meal_option_id for person in people if person.meal_option_id is not None)


def meal_short(event: Event, wanted: Counter[int]) -> MealOption | None:
    """The first meal of `event` with fewer meals left than `wanted` asks, or None."""
    for option in event.meal_options:
        left = option.meals_left
        if left is not None and wanted.get(option.id, 0) > left:
            return option
    return None


def seats_fit(event: Event, people: int) -> bool:
    """Whether `people` more fit in the seats of `event` left."""
    return event.seats_left is None or people <= event.seats_left


def fits(event: Event, people: list) -> bool:
    """Whether a party of `people` fits in the seats and meals of `event` left."""
    return seats_fit(event, len(people)) and meal_short(event, meals_wanted(people)) is None
