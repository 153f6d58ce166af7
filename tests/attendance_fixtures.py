"""Fixtures and helpers of the attendance tests (`tests/test_attendance_*.py`): the door's
event with its parties, an organiser logged in, and readers of pages, CSV files and mails."""

import csv
import io
import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    OutboxMessage,
    PaymentMode,
    PaymentState,
    Registration,
    RegistrationStatus,
)
from cooperative.services.registration import PersonChoice
from tests.conftest import deliver_webhook, post_form
from tests.factories import make_collective, make_event, make_organiser, make_registration

ORGANISER = "organiser@example.org"
HELPER = "helper@example.org"


@pytest.fixture
def door(app):
    """Buurtdiner of Zonnedak: 5 seats, a €5 dinner for 4, all seats taken, one party waiting.

    - Eve Jansen (eve@) with Finn: both dinner, Eve halal + vegetarian; €10 to pay at the door
    - Ada Lovelace (ada@) with Bob: both dinner, Ada vegan with a note; €10 at the door
    - chris (chris@): no meal, nothing to pay
    - Gus (gus@): waiting list, no meal
    """
    with app.app_context():
        host = make_collective("zonnedak", "Zonnedak")
        organiser = make_organiser(host, email=ORGANISER, name="Olga Organiser")
        make_organiser(host, email=HELPER, name="Henk Helper")
        event = make_event(
            capacity=5,
            collective_id=host.id,
            meals=[{"name": "Diner", "price_cents": 500, "capacity": 4}],
        )
        dinner = event.meal_options[0].id
        eve = make_registration(
            event,
            [PersonChoice("Eve", dinner, ["vegetarian", "halal"]), PersonChoice("Finn", dinner)],
            email="eve@example.org",
            contact_name="Eve Jansen",
        )
        ada = make_registration(
            event,
            [
                PersonChoice("Ada", dinner, ["vegan"], "No nuts, please"),
                PersonChoice("Bob", dinner),
            ],
            email="ada@example.org",
            contact_name="Ada Lovelace",
        )
        chris = make_registration(event, ["chris"], email="chris@example.org")
        gus = make_registration(event, ["Gus"], email="gus@example.org", join_waitlist=True)
        assert gus.status == RegistrationStatus.WAITLISTED
        return SimpleNamespace(
            event=event.id,
            host=host.id,
            dinner=dinner,
            organiser=organiser.id,
            ada=ada.id,
            eve=eve.id,
            chris=chris.id,
            gus=gus.id,
            ada_person=ada.attendees[0].id,
            bob_person=ada.attendees[1].id,
            chris_person=chris.attendees[0].id,
            gus_person=gus.attendees[0].id,
            ada_ticket=ada.attendees[0].ticket,
            gus_ticket=gus.attendees[0].ticket,
            list=f"/manage/events/{event.id}/attendees",
        )


def log_in(client, auth, email=ORGANISER):
    client.get("/auth/login?lang=en")
    assert auth.login(email=email).status_code in (302, 303)


@pytest.fixture
def organiser(client, auth, door):
    log_in(client, auth)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def party_names(page: str) -> list[str]:
    return re.findall(r'<h3 class="party-name">([^<]+)</h3>', page)


def htmx(target="attendee-list", trigger="attendance-q") -> dict:
    """The headers of an htmx request; `trigger` None for an element without an id."""
    headers = {"HX-Request": "true", "HX-Target": target}
    return headers if trigger is None else {**headers, "HX-Trigger": trigger}


def attendee(app, attendee_id) -> Attendee:
    with app.app_context():
        return db.session.get(Attendee, attendee_id)


def registration(app, registration_id) -> Registration:
    with app.app_context():
        return db.session.get(Registration, registration_id)


def counters(page: str) -> dict[str, int]:
    """The numbers in the counters region, by their label."""
    found = re.findall(
        r"<dt>([^<]+)</dt>\s*<dd><span class=\"counter-number\"[^>]*>(\d+)</span>", page
    )
    return {label: int(number) for label, number in found}


def read_csv(response) -> tuple[str, list[list[str]]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs for UTF-8
    content = body.decode("utf-8-sig")
    delimiter = ";" if content.split("\r\n")[0].count(";") > 3 else ","
    return delimiter, list(csv.reader(io.StringIO(content), delimiter=delimiter))


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.subject.like("Buurtdiner:%"))
        ).all()


def walk_in(client, door, **fields):
    data = {"name": "Wim", "meal": "", "paid": "", **fields}
    return post_form(client, f"/manage/events/{door.event}/walk-in", data)


def walk_ins(app, door) -> list[Registration]:
    with app.app_context():
        return db.session.scalars(
            sa.select(Registration)
            .where(Registration.event_id == door.event, Registration.contact_email == "")
            .options(sa.orm.selectinload(Registration.attendees))
        ).all()


@pytest.fixture
def paid(app, client, fake_stripe):
    """A party of two that paid €14 online for Buurtdiner (online payment only)."""
    with app.app_context():
        host = make_collective("zonnedak", "Zonnedak")
        make_organiser(host, email=ORGANISER)
        event = make_event(
            capacity=3,
            ticket_price_cents=200,
            payment_mode=PaymentMode.ONLINE,
            collective_id=host.id,
            meals=[{"name": "Diner", "price_cents": 500}],
        )
        dinner, event_id = event.meal_options[0].id, event.id
    response = post_form(
        client,
        "/events/buurtdiner/register?lang=en",
        {
            "contact_name": "Ada",
            "contact_email": "ada@example.org",
            "submit": "register",
            "people-0-name": "Ada",
            "people-0-meal": str(dinner),
            "people-1-name": "Bob",
            "people-1-meal": str(dinner),
        },
    )
    session_id = response.headers["Location"].rsplit("/", 1)[1]
    fake_stripe.pay(session_id)
    deliver_webhook(client, fake_stripe, fake_stripe.held_events("checkout.session.completed")[-1])
    with app.app_context():
        party = db.session.scalar(sa.select(Registration))
        assert party.payment_state == PaymentState.PAID
        return SimpleNamespace(event=event_id, party=party.id)
