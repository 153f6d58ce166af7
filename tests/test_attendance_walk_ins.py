"""People who come in at the door without registering: within the seats and meals
left, checked in at once, paying at once or later.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Event,
    OutboxMessage,
    Payment,
    PaymentProvider,
    PaymentState,
    Registration,
    RegistrationStatus,
    utcnow,
)
from cooperative.services import registration as registrations
from tests import attendance_fixtures
from tests.attendance_fixtures import (
    text,
    walk_in,
    walk_ins,
)

door = attendance_fixtures.door
organiser = attendance_fixtures.organiser


# ---------------------------------------------------------------------------------------
# Walk-ins


def test_no_walk_in_beyond_the_seats_and_in_when_one_frees_up(app, organiser, door):
    form = text(organiser.get(f"/manage/events/{door.event}/walk-in"))
    assert "0 seats left" in form

    full = walk_in(organiser, door, name="Wim")
    assert full.status_code == 422
    assert "The event is full: all 5 seats are taken." in text(full)
    assert 'value="Wim"' in text(full)
    assert walk_ins(app, door) == []

    with app.app_context():
        event = db.session.get(Event, door.event)
        event.capacity = 7  # the organiser found two more chairs; Gus is not promoted by this
        db.session.commit()
    assert walk_in(organiser, door, name="Wim").status_code == 303
    assert walk_in(organiser, door, name="Xander").status_code == 303
    third = walk_in(organiser, door, name="Yara")
    assert third.status_code == 422 and "all 7 seats are taken" in text(third)
    assert sorted(w.contact_name for w in walk_ins(app, door)) == ["Wim", "Xander"]


def test_a_walk_in_is_confirmed_checked_in_and_may_pay_at_once(app, organiser, door):
    with app.app_context():
        registrations.cancel(db.session.get(Registration, door.eve))  # 2 seats, 2 dinners free
        db.session.commit()
    before = utcnow()

    response = walk_in(
        organiser,
        door,
        name="Wim",
        meal=str(door.dinner),
        diets="vegan",
        diet_note="Geen ui",
        paid="5",
        q="w",
    )

    assert response.status_code == 303
    [wim] = walk_ins(app, door)
    assert response.headers["Location"] == f"{door.list}?q=w#party-{wim.id}"
    assert wim.status == RegistrationStatus.CONFIRMED
    assert (wim.amount_due_cents, wim.amount_paid_cents) == (500, 500)
    assert wim.payment_state == PaymentState.PAID
    [person] = wim.attendees
    assert (person.name, person.meal_option_id, person.diets) == ("Wim", door.dinner, ["vegan"])
    assert person.checked_in_at >= before and person.checked_in_by_id == door.organiser
    with app.app_context():
        payment = db.session.scalar(sa.select(Payment).where(Payment.registration_id == wim.id))
        assert (payment.provider, payment.amount_cents) == (PaymentProvider.DOOR, 500)
        assert payment.recorded_by_id == door.organiser
        # No e-mail for someone without an address.
        assert (
            db.session.scalar(
                sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.to_address == "")
            )
            == 0
        )
    page = text(organiser.get(response.headers["Location"]))
    assert "Wim is added and checked in." in page
    assert "Came in at the door" in page and "Paid at the door €5.00" in page


def test_no_walk_in_beyond_the_meals_left(app, organiser, door):
    with app.app_context():
        db.session.get(Event, door.event).capacity = None
        db.session.commit()

    refused = walk_in(organiser, door, name="Wim", meal=str(door.dinner), diet_note="Geen ui")

    assert refused.status_code == 422
    page = text(refused)
    assert "No meals of “Diner” are left." in page
    assert 'value="Geen ui"' in page
    assert walk_ins(app, door) == []
    assert walk_in(organiser, door, name="Wim").status_code == 303  # without a meal: fine


def test_walk_ins_come_after_registration_closed_and_after_the_start(app, organiser, door):
    with app.app_context():
        event = db.session.get(Event, door.event)
        event.capacity = None
        event.starts_at = utcnow() - timedelta(hours=1)
        event.registration_closes_at = utcnow() - timedelta(days=1)
        event.meal_options[0].signup_deadline = utcnow() - timedelta(days=2)
        event.meal_options[0].capacity = 5
        db.session.commit()

    assert walk_in(organiser, door, name="Laat", meal=str(door.dinner), paid="5").status_code == 303
    [late] = walk_ins(app, door)
    assert late.payment_state == PaymentState.PAID


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "Please fill in their name."),
        ({"paid": "vijf"}, "Please write an amount in euros, like 4,50."),
        ({"paid": "5"}, "They have nothing to pay."),
        ({"meal": "dinner", "paid": "6"}, "They owe €5.00: the amount paid cannot be more."),
        (
            {"meal": "dinner", "diets": "gluten_free"},
            "Please choose from the diets this meal offers.",
        ),
        ({"meal": "999999"}, "Please choose one of the meals offered."),
    ],
)
def test_a_walk_in_with_bad_input_is_refused_with_what_was_typed(
    app, organiser, door, fields, message
):
    with app.app_context():
        db.session.get(Event, door.event).capacity = None
        db.session.get(Event, door.event).meal_options[0].capacity = None
        db.session.commit()
    if fields.get("meal") == "dinner":
        fields["meal"] = str(door.dinner)

    response = walk_in(organiser, door, **{"name": "Wim", **fields})

    assert response.status_code == 422
    assert message in text(response)
    assert walk_ins(app, door) == []


def test_a_pay_what_you_can_walk_in_pays_their_own_amount(app, organiser, door):
    with app.app_context():
        event = db.session.get(Event, door.event)
        event.capacity = None
        event.ticket_price_cents = 200
        meal = event.meal_options[0]
        meal.capacity, meal.pwyc_min_cents, meal.pwyc_suggested_cents = None, 300, 500
        db.session.commit()

    assert (
        walk_in(organiser, door, name="Wim", meal=str(door.dinner), paid="6,00").status_code == 303
    )
    low = walk_in(organiser, door, name="Xan", meal=str(door.dinner), paid="4")
    assert low.status_code == 422
    assert "For the meal they can pay from €3.00 to €100.00, plus €2.00 entry." in text(low)
    [wim] = walk_ins(app, door)
    assert (wim.amount_due_cents, wim.payment_state) == (600, PaymentState.PAID)
    assert wim.attendees[0].meal_price_cents == 400
