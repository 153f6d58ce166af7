"""The registration rules on the service itself: seats, meals, prices, deadlines, waiting list."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    EventStatus,
    MealOption,
    OutboxMessage,
    Payment,
    PaymentProvider,
    PaymentState,
    PaymentStatus,
    Registration,
    RegistrationStatus,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.services import registration as registrations
from cooperative.services.registration import PersonChoice
from tests.factories import make_event, make_registration


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def people(*names, meal=None, diets=()):
    return [PersonChoice(name=n, meal_option_id=meal, diets=list(diets)) for n in names]


class refused:  # noqa: N801 - used like pytest.raises
    """`with refused("people"):` expects a refusal about that field, then rolls back."""

    def __init__(self, field: str) -> None:
        self.field = field

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        assert kind is Refused, f"expected a refusal about {self.field}"
        assert error.field == self.field
        db.session.rollback()
        return True


def test_a_party_takes_its_seats_and_gets_tickets(ctx):
    event = make_event(capacity=10)
    registration = make_registration(event, people=("Ada", "Bob", "Cas"))

    assert registration.status == RegistrationStatus.CONFIRMED
    assert [a.name for a in registration.attendees] == ["Ada", "Bob", "Cas"]
    codes = {a.ticket_code for a in registration.attendees}
    assert len(codes) == 3 and all(len(code) >= 40 for code in codes)
    db.session.expire_all()
    assert event.seats_taken == 3 and event.seats_left == 7


def test_the_last_seats_go_exactly(ctx):
    event = make_event(capacity=3)
    make_registration(event, people=("Ada", "Bob"), email="a@example.org")
    make_registration(event, people=("Cas",), email="c@example.org")
    db.session.expire_all()
    assert event.seats_left == 0 and event.is_full

    with refused("people"):
        make_registration(event, people=("Dirk",), email="d@example.org")
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 2


def test_a_party_larger_than_the_seats_left_may_join_the_waiting_list(ctx):
    event = make_event(capacity=3)
    make_registration(event, people=("Ada", "Bob"), email="a@example.org")

    with refused("people"):
        make_registration(event, people=("Cas", "Dirk"), email="c@example.org")
    waiting = make_registration(
        event, people=("Cas", "Dirk"), email="c@example.org", join_waitlist=True
    )

    assert waiting.status == RegistrationStatus.WAITLISTED
    assert registrations.waitlist_position(waiting) == 1
    db.session.expire_all()
    assert event.seats_taken == 2, "a waiting party holds no seats"


def test_an_event_without_capacity_never_fills(ctx):
    event = make_event(capacity=None)
    make_registration(event, people=[f"P{i}" for i in range(6)])
    db.session.expire_all()
    assert event.seats_left is None and not event.is_full


def test_party_size_limits(ctx):
    event = make_event(max_party_size=2)
    with refused("people"):
        make_registration(event, people=("A", "B", "C"))
    with refused("people"):
        registrations.register(event, "Ada", "ada@example.org", [])
    assert make_registration(event, people=("A", "B")).status == RegistrationStatus.CONFIRMED


def test_meal_capacity_is_kept_separately_from_seats(ctx):
    event = make_event(capacity=10, meals=[{"capacity": 2}])
    meal = event.meal_options[0].id
    make_registration(event, people=people("Ada", "Bob", meal=meal), email="a@example.org")

    with refused("people-0-meal"):
        make_registration(event, people=people("Cas", meal=meal), email="c@example.org")
    # Without the meal there is still a seat.
    assert make_registration(event, people=("Cas",), email="c@example.org").is_active
    db.session.expire_all()
    assert event.meal_options[0].meals_left == 0


def test_a_meal_after_its_deadline_is_refused(ctx):
    event = make_event(meals=[{"signup_deadline": utcnow() - timedelta(minutes=1)}])
    with refused("people-0-meal"):
        make_registration(event, people=people("Ada", meal=event.meal_options[0].id))
    assert make_registration(event, people=("Ada",)).is_active


def test_a_diet_the_meal_does_not_offer_is_refused(ctx):
    event = make_event(meals=[{"diets": ["vegan"]}])
    meal = event.meal_options[0].id
    with refused("people-0-diets"):
        make_registration(event, people=people("Ada", meal=meal, diets=["halal"]))
    ok = make_registration(event, people=people("Ada", meal=meal, diets=["vegan"]))
    assert ok.attendees[0].diets == ["vegan"]


def test_a_meal_of_another_event_is_refused(ctx):
    other = make_event(slug="ander", meals=[{}])
    event = make_event(meals=[{}])
    with refused("people-0-meal"):
        make_registration(event, people=people("Ada", meal=other.meal_options[0].id))


def test_diets_without_a_meal_are_dropped(ctx):
    event = make_event(meals=[{}])
    registration = make_registration(event, people=people("Ada", diets=["vegan"]))
    assert registration.attendees[0].diets == []


@pytest.mark.parametrize(
    ("status", "opens", "closes", "starts_in"),
    [
        (EventStatus.CANCELLED, None, None, timedelta(days=3)),
        (EventStatus.DRAFT, None, None, timedelta(days=3)),
        (EventStatus.PUBLISHED, timedelta(days=1), None, timedelta(days=3)),
        (EventStatus.PUBLISHED, None, timedelta(days=-1), timedelta(days=3)),
        (EventStatus.PUBLISHED, None, None, timedelta(hours=-1)),
    ],
    ids=["cancelled", "draft", "not-yet-open", "closed", "started"],
)
def test_registration_outside_its_window_is_refused(ctx, status, opens, closes, starts_in):
    now = utcnow()
    event = make_event(
        status=status,
        starts_in=starts_in,
        registration_opens_at=now + opens if opens else None,
        registration_closes_at=now + closes if closes else None,
    )
    with refused("event"):
        make_registration(event)
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_prices_come_from_the_event(ctx):
    event = make_event(
        ticket_price_cents=200,
        meals=[
            {"name": "Soep", "price_cents": 450},
            {"name": "Diner", "price_cents": 0, "pwyc_min_cents": 300, "pwyc_suggested_cents": 500},
        ],
    )
    soup, dinner = (m.id for m in event.meal_options)
    party = [
        PersonChoice("Ada", soup),
        PersonChoice("Bob", dinner),
        PersonChoice("Cas"),
    ]
    assert registrations.price_cents(event, party, None) == 3 * 200 + 450 + 500
    assert registrations.price_cents(event, party, 300) == 3 * 200 + 450 + 300
    assert registrations.price_cents(event, party, 1234) == 3 * 200 + 450 + 1234

    registration = make_registration(event, people=party, meal_amount_cents=800)
    assert registration.amount_due_cents == 3 * 200 + 450 + 800
    assert registration.payment_state == PaymentState.DUE_AT_DOOR
    assert [a.meal_price_cents for a in registration.attendees] == [450, 800, 0]


@pytest.mark.parametrize("amount", [299, 0, registrations.PWYC_MAX_CENTS + 1])
def test_a_pay_what_you_can_amount_out_of_range_is_refused(ctx, amount):
    event = make_event(meals=[{"price_cents": 0, "pwyc_min_cents": 300}])
    with refused("meal_amount"):
        make_registration(
            event, people=people("Ada", meal=event.meal_options[0].id), meal_amount_cents=amount
        )


def test_the_range_edges_are_accepted(ctx):
    event = make_event(meals=[{"price_cents": 0, "pwyc_min_cents": 300, "capacity": None}])
    meal = event.meal_options[0].id
    low = make_registration(
        event, people=people("A", meal=meal), email="a@example.org", meal_amount_cents=300
    )
    high = make_registration(
        event,
        people=people("B", meal=meal),
        email="b@example.org",
        meal_amount_cents=registrations.PWYC_MAX_CENTS,
    )
    assert (low.amount_due_cents, high.amount_due_cents) == (300, registrations.PWYC_MAX_CENTS)


def test_a_free_registration_owes_nothing(ctx):
    registration = make_registration(make_event())
    assert registration.amount_due_cents == 0
    assert registration.payment_state == PaymentState.NONE


def test_the_same_address_cannot_register_twice(ctx):
    event = make_event()
    first = make_registration(event, email="Ada@Example.org")
    with pytest.raises(registrations.AlreadyRegistered) as known:
        make_registration(event, email="ada@example.org")
    assert known.value.registration.id == first.id
    db.session.rollback()
    registrations.cancel(first)
    db.session.commit()
    assert make_registration(event, email="ada@example.org").id != first.id


def test_cancelling_promotes_the_oldest_waiting_party_that_fits(ctx):
    event = make_event(capacity=4)
    holder = make_registration(event, people=("A", "B", "C"), email="holder@example.org")
    make_registration(event, people=("D",), email="d@example.org")
    big = make_registration(
        event, people=("E", "F", "G", "H"), email="big@example.org", join_waitlist=True
    )
    first_small = make_registration(
        event, people=("I", "J"), email="ij@example.org", join_waitlist=True
    )
    second_small = make_registration(
        event, people=("K",), email="k@example.org", join_waitlist=True
    )

    registrations.cancel(holder)
    db.session.commit()

    statuses = {r.contact_email: r.status for r in db.session.scalars(sa.select(Registration))}
    assert statuses["big@example.org"] == RegistrationStatus.WAITLISTED, "4 do not fit in 3"
    assert statuses["ij@example.org"] == RegistrationStatus.CONFIRMED
    assert statuses["k@example.org"] == RegistrationStatus.CONFIRMED
    assert registrations.waitlist_position(big) == 1
    db.session.expire_all()
    assert event.seats_taken == 4
    assert first_small.payment_state == second_small.payment_state == PaymentState.NONE


def test_promotion_respects_meal_capacity(ctx):
    event = make_event(capacity=2, meals=[{"capacity": 1}])
    meal = event.meal_options[0].id
    holder = make_registration(event, people=people("A", meal=meal), email="a@example.org")
    make_registration(event, people=("B",), email="b@example.org")
    hungry = make_registration(
        event, people=people("C", "D", meal=meal), email="c@example.org", join_waitlist=True
    )
    plain = make_registration(event, people=("E",), email="e@example.org", join_waitlist=True)

    registrations.cancel(holder)
    db.session.commit()
    assert hungry.status == RegistrationStatus.WAITLISTED
    assert plain.status == RegistrationStatus.CONFIRMED


def test_a_promoted_party_that_owes_money_pays_at_the_door(ctx):
    event = make_event(capacity=1, meals=[{"price_cents": 700}])
    holder = make_registration(event, email="a@example.org")
    waiting = make_registration(
        event,
        people=people("B", meal=event.meal_options[0].id),
        email="b@example.org",
        join_waitlist=True,
    )
    assert waiting.payment_state == PaymentState.NONE
    registrations.cancel(holder)
    db.session.commit()
    assert waiting.status == RegistrationStatus.CONFIRMED
    assert waiting.payment_state == PaymentState.DUE_AT_DOOR


def test_cancelling_one_person_frees_one_seat_and_lowers_the_amount(ctx):
    event = make_event(capacity=3, meals=[{"price_cents": 500}])
    meal = event.meal_options[0].id
    registration = make_registration(event, people=people("Ada", "Bob", meal=meal))
    waiting = make_registration(
        event, people=("Cas", "Dirk"), email="c@example.org", join_waitlist=True
    )

    registrations.cancel_attendee(registration.attendees[1])
    db.session.commit()

    assert [a.name for a in registration.active_attendees] == ["Ada"]
    assert registration.amount_due_cents == 500
    assert registration.status == RegistrationStatus.CONFIRMED
    assert waiting.status == RegistrationStatus.CONFIRMED, "two seats are free now"
    db.session.expire_all()
    assert event.seats_taken == 3
    assert event.meal_options[0].meals_taken == 1


def test_cancelling_the_last_person_cancels_the_party(ctx):
    registration = make_registration(make_event(), people=("Ada",))
    registrations.cancel_attendee(registration.attendees[0])
    db.session.commit()
    assert registration.status == RegistrationStatus.CANCELLED
    assert registration.cancelled_at is not None


def test_nothing_changes_after_the_event_started(ctx):
    event = make_event()
    registration = make_registration(event, people=("Ada", "Bob"))
    later = event.starts_at + timedelta(minutes=1)
    with refused("event"):
        registrations.cancel(registration, now=later)
    with refused("event"):
        registrations.cancel_attendee(registration.attendees[0], now=later)
    assert registration.status == RegistrationStatus.CONFIRMED


def test_a_cancelled_registration_cannot_be_cancelled_again(ctx):
    registration = make_registration(make_event())
    registrations.cancel(registration)
    db.session.commit()
    with refused("event"):
        registrations.cancel(registration)


def test_diets_change_until_the_meal_deadline(ctx):
    deadline = utcnow() + timedelta(days=1)
    event = make_event(meals=[{"signup_deadline": deadline, "diets": ["vegan", "halal"]}])
    registration = make_registration(
        event, people=people("Ada", meal=event.meal_options[0].id, diets=["vegan"])
    )
    ada = registration.attendees[0]

    registrations.update_attendee(ada, "Ada Lovelace", ["halal"], "geen ui")
    db.session.commit()
    assert (ada.name, ada.diets, ada.diet_note) == ("Ada Lovelace", ["halal"], "geen ui")

    with refused("diets"):
        registrations.update_attendee(ada, "Ada", ["kosher"], "")
    later = deadline + timedelta(minutes=1)
    with refused("diets"):
        registrations.update_attendee(ada, "Ada", ["vegan"], "", now=later)
    # A name may still change after the meal deadline.
    registrations.update_attendee(ada, "Ada L.", ["halal"], "geen ui", now=later)
    db.session.commit()
    assert ada.name == "Ada L." and ada.diets == ["halal"]


def test_private_link_and_ticket_lookups_need_the_whole_secret(ctx):
    registration = make_registration(make_event())
    ticket = registration.attendees[0].ticket

    assert registrations.find_registration(registration.token).id == registration.id
    assert registrations.find_attendee(ticket).id == registration.attendees[0].id
    tampered = registration.token[:-1] + ("A" if registration.token[-1] != "A" else "B")
    for token in (tampered, f"{registration.id}-", str(registration.id), "", "x-y", "9" * 30):
        assert registrations.find_registration(token) is None
    other_id = f"{registration.id + 1}-{registration.manage_token}"
    assert registrations.find_registration(other_id) is None
    assert registrations.find_attendee(ticket.split("-", 1)[0]) is None


def test_every_change_writes_its_email_in_the_same_transaction(ctx):
    event = make_event(capacity=1)
    holder = make_registration(event, email="a@example.org", locale="en")
    make_registration(event, email="b@example.org", join_waitlist=True)
    registrations.cancel(holder)
    db.session.commit()

    subjects = [
        (m.to_address, m.subject)
        for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
    ]
    assert subjects == [
        ("a@example.org", "Your registration: Buurtdiner"),
        ("b@example.org", "Je aanmelding: Buurtdiner"),
        ("a@example.org", "Cancelled: Buurtdiner"),
        ("b@example.org", "Er is plek voor je: Buurtdiner"),
    ]


def test_a_refused_registration_leaves_nothing_behind(ctx):
    event = make_event(capacity=1)
    with refused("people"):
        make_registration(event, people=("A", "B"))
    assert db.session.scalar(sa.select(sa.func.count(Attendee.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_a_held_party_that_owes_nothing_more_is_confirmed(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", "whsec_test")
    event = make_event(payment_mode="online", meals=[{"price_cents": 500}])
    meal = event.meal_options[0].id
    held = make_registration(
        event, people=[PersonChoice("Ada", meal), PersonChoice("Bob")], pay_online=True
    )
    assert held.status == RegistrationStatus.PENDING_PAYMENT

    registrations.cancel_attendee(held.attendees[0])
    db.session.commit()

    assert held.status == RegistrationStatus.CONFIRMED
    assert held.hold_expires_at is None and held.payment_state == PaymentState.NONE
    assert registrations.expire_holds(utcnow() + timedelta(hours=2)) == 0


def test_cash_paid_at_the_door_is_never_marked_refunded(ctx):
    event = make_event(meals=[{"price_cents": 500}])
    meal = event.meal_options[0].id
    registration = make_registration(
        event, people=[PersonChoice("Ada", meal), PersonChoice("Bob", meal)]
    )
    cash = Payment(
        registration_id=registration.id,
        provider=PaymentProvider.DOOR,
        status=PaymentStatus.PAID,
        amount_cents=1000,
    )
    db.session.add(cash)
    registration.amount_paid_cents = 1000
    registration.payment_state = PaymentState.PAID
    db.session.commit()

    registrations.cancel_attendee(registration.attendees[1])
    db.session.commit()
    assert registration.payment_state == PaymentState.PAID
    assert (cash.status, cash.refunded_cents) == (PaymentStatus.PAID, 0)

    registrations.cancel(registration)
    db.session.commit()
    assert registration.payment_state == PaymentState.PAID, "the organisers give cash back"
    assert registration.amount_paid_cents == 1000


def test_a_party_paid_in_part_at_the_door_owes_what_is_left(ctx):
    event = make_event(meals=[{"price_cents": 500}])
    meal = event.meal_options[0].id
    registration = make_registration(
        event, people=[PersonChoice("Ada", meal), PersonChoice("Bob", meal), "Cas"]
    )
    registration.amount_paid_cents = 500
    db.session.commit()

    registrations.cancel_attendee(registration.attendees[2])
    db.session.commit()
    assert registration.payment_state == PaymentState.DUE_AT_DOOR
    registrations.cancel_attendee(registration.attendees[1])
    db.session.commit()
    assert registration.payment_state == PaymentState.PAID, "€5 due, €5 paid"


def test_meal_prices_are_read_again_under_the_lock(ctx):
    """Another process changes the dinner's price after this one loaded the event: the
    registration takes the price as it stands once the event is locked."""
    event = make_event(capacity=10, meals=[{"name": "Diner", "price_cents": 500}])
    dinner = event.meal_options[0]
    assert dinner.price_cents == 500
    with db.engine.begin() as other:
        other.execute(
            sa.update(MealOption).where(MealOption.id == dinner.id).values(price_cents=700)
        )
    registration = registrations.register(
        event, "Ada", "ada@example.org", people("Ada", meal=dinner.id)
    )
    db.session.commit()
    assert registration.attendees[0].meal_price_cents == 700
    assert registration.amount_due_cents == 700
