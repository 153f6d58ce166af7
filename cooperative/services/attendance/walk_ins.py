"""People who come in at the door without registering."""

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...locking import lock_event
from ...models import (
    Attendee,
    Event,
    EventStatus,
    PaymentState,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from ...money import format_euros
from ...refusals import Refused
from .. import audit, places
from ..registration import (
    PWYC_MAX_CENTS,
    check_members_only,
    meal_price,
    new_secret,
)
from .door import add_door_payment

log = logging.getLogger(__name__)


@dataclass
class WalkIn:
    """A person who comes without registering: their name, meal, diets and note, and what
    they paid at the door (None: nothing yet)."""

    name: str
    meal_option_id: int | None = None
    diets: list[str] = field(default_factory=list)
    diet_note: str = ""
    paid_cents: int | None = None


def add_walk_in(
    event: Event, walk_in: WalkIn, by: User, *, locale: str = "nl", now: datetime | None = None
) -> Registration:
    """Add a person at the door: confirmed, checked in at once, no e-mail address needed.

    Walk-ins may come after registration closed and after the event started, and a meal's
    sign-up deadline does not stop them: only the seats and meals left do. Their price is
    the event's (a pay-what-you-can meal costs what they pay, within its range, or the
    suggested amount). With the event locked. Refuses (Refused) an event that is
    cancelled or not published, a general meeting's event (members only), an empty name,
    a meal or diet not offered, a full event or meal, and a payment that is not a
    positive amount or is more than they owe.
    """
    now = now or utcnow()
    lock_event(event)
    db.session.refresh(event)
    if event.status == EventStatus.CANCELLED:
        raise Refused(_l("This event is cancelled."))
    if event.status != EventStatus.PUBLISHED:
        raise Refused(_l("Publish the event before people can come in."))
    check_members_only(event, None)  # a general meeting: members come with their ticket
    name = walk_in.name.strip()[:120]
    if not name:
        raise Refused(_l("Please fill in their name."), field="name")
    options = {option.id: option for option in event.meal_options}
    option = None
    if walk_in.meal_option_id is not None:
        option = options.get(walk_in.meal_option_id)
        if option is None:
            raise Refused(_l("Please choose one of the meals offered."), field="meal")
        if set(walk_in.diets) - set(option.diets):
            raise Refused(_l("Please choose from the diets this meal offers."), field="diets")
    places.count_afresh(event)
    if not places.seats_fit(event, 1):
        raise Refused(_l("The event is full: all %(count)d seats are taken.", count=event.capacity))
    if option is not None and places.meal_short(event, Counter([option.id])) is not None:
        raise Refused(_l("No meals of “%(meal)s” are left.", meal=option.name), field="meal")
    if walk_in.paid_cents is not None and walk_in.paid_cents <= 0:
        raise Refused(_l("Please write an amount in euros, like 4,50."), field="paid")

    meal_cents = 0
    if option is not None:
        chosen = None
        if option.pay_what_you_can and walk_in.paid_cents is not None:
            chosen = walk_in.paid_cents - event.ticket_price_cents
        try:
            meal_cents = meal_price(option, chosen)
        except Refused as refusal:
            raise Refused(
                _l(
                    "For the meal they can pay from %(min)s to %(max)s, plus %(entry)s entry.",
                    min=format_euros(option.pwyc_min_cents),
                    max=format_euros(PWYC_MAX_CENTS),
                    entry=format_euros(event.ticket_price_cents),
                )
                if event.ticket_price_cents
                else refusal.message,
                field="paid",
            ) from refusal
    due = event.ticket_price_cents + meal_cents
    if walk_in.paid_cents is not None and walk_in.paid_cents > due:
        if due == 0:
            raise Refused(_l("They have nothing to pay."), field="paid")
        raise Refused(
            _l("They owe %(amount)s: the amount paid cannot be more.", amount=format_euros(due)),
            field="paid",
        )
    registration = Registration(
        event=event,
        contact_name=name,
        contact_email="",
        locale=locale,
        status=RegistrationStatus.CONFIRMED,
        manage_token=new_secret(),
        amount_due_cents=due,
        payment_state=PaymentState.DUE_AT_DOOR if due else PaymentState.NONE,
        created_at=now,
        attendees=[
            Attendee(
                name=name,
                meal_option_id=option.id if option else None,
                meal_price_cents=meal_cents,
                diets=sorted(set(walk_in.diets)) if option else [],
                diet_note=walk_in.diet_note.strip()[:300] if option else "",
                ticket_code=new_secret(),
                checked_in_at=now,
                checked_in_by_id=by.id,
            )
        ],
    )
    db.session.add(registration)
    db.session.flush()
    if walk_in.paid_cents:
        add_door_payment(registration, walk_in.paid_cents, by, now)
        db.session.flush()
    audit.record(
        by,
        "registration.walk_in",
        registration_id=registration.id,
        attendee_id=registration.attendees[0].id,
        before=None,
        after={
            **audit.snapshot(registration, "status", "amount_due_cents", "amount_paid_cents"),
            "checked_in": True,
        },
        at=now,
    )
    log.info("Walk-in party %s added by user %s", registration.id, by.id)
    return registration
