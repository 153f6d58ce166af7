"""Money at the door (one tap, another amount, twice, two phones) and cancelling with a
refund a party that paid online.
"""

import html
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Event,
    Payment,
    PaymentProvider,
    PaymentState,
    PaymentStatus,
    RegistrationStatus,
    utcnow,
)
from tests import attendance_fixtures
from tests.attendance_fixtures import (
    HELPER,
    ORGANISER,
    htmx,
    log_in,
    registration,
    text,
)
from tests.conftest import post_form

door = attendance_fixtures.door
organiser = attendance_fixtures.organiser
paid = attendance_fixtures.paid


def typed_amount(page: str) -> str:
    """What the page's amount field shows."""
    tag = re.search(r'<input [^>]*name="amount"[^>]*>', page).group(0)
    return html.unescape(re.search(r'value="([^"]*)"', tag).group(1))


# ---------------------------------------------------------------------------------------
# Paying at the door


def test_one_tap_records_the_door_payment_with_who_and_when(app, organiser, door):
    before = utcnow()
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/parties/{door.ada}/door-payment",
        {"amount": "10.00", "expected_open_cents": "1000"},
        headers=htmx(target=f"party-{door.ada}"),
    )

    assert response.status_code == 200 and response.headers["HX-Trigger"] == "checkin-changed"
    row = text(response)
    assert "Paid at the door €10.00" in row and "Paid €10.00 at the door" not in row
    assert "€10.00 paid at the door by the party of Ada Lovelace is recorded." in row
    with app.app_context():
        [payment] = db.session.scalars(sa.select(Payment)).all()
        assert payment.registration_id == door.ada
        assert payment.provider == PaymentProvider.DOOR
        assert payment.status == PaymentStatus.PAID
        assert payment.amount_cents == 1000
        assert payment.recorded_by_id == door.organiser
        assert payment.paid_at >= before
    paid = registration(app, door.ada)
    assert (paid.amount_paid_cents, paid.payment_state) == (1000, PaymentState.PAID)
    page = text(organiser.get(door.list))
    assert "Received at the door</dt><dd>€10.00" in page
    assert "Still open</dt><dd>€10.00" in page


def test_a_door_payment_tapped_twice_is_recorded_once(app, organiser, door):
    url = f"/manage/events/{door.event}/parties/{door.ada}/door-payment"
    tap = {"amount": "10,00", "expected_open_cents": "1000"}
    post_form(organiser, url, tap)

    again = post_form(organiser, url, tap, headers=htmx(target=f"party-{door.ada}"))

    assert again.status_code == 200
    assert "Nothing new is recorded" in text(again)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    assert registration(app, door.ada).amount_paid_cents == 1000


def test_two_phones_taking_the_same_door_payment_at_once_record_it_once(app, door):
    phones = [app.test_client(), app.test_client()]
    for phone, email in zip(phones, (ORGANISER, HELPER), strict=True):
        post_form(phone, "/auth/login", {"email": email, "password": "correct horse battery"})
    tokens = [
        re.search(r'name="csrf_token" value="([^"]+)"', text(phone.get(door.list))).group(1)
        for phone in phones
    ]
    url = f"/manage/events/{door.event}/parties/{door.eve}/door-payment"
    barrier = threading.Barrier(2)
    statuses = [None, None]

    def tap(index):
        barrier.wait(timeout=10)
        statuses[index] = (
            phones[index]
            .post(
                url,
                data={"amount": "10", "expected_open_cents": "1000"},
                headers={"X-CSRFToken": tokens[index]},
            )
            .status_code
        )

    threads = [threading.Thread(target=tap, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [303, 303]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    assert registration(app, door.eve).amount_paid_cents == 1000


def test_another_amount_on_its_own_page(app, organiser, door):
    url = f"/manage/events/{door.event}/parties/{door.ada}/door-payment"
    form = text(organiser.get(url, query_string={"q": "ada"}))
    assert typed_amount(form) == "10.00" and "Still to pay: €10.00." in form

    response = post_form(organiser, url, {"amount": "€ 4,50", "on_page": "1", "q": "ada"})

    assert response.status_code == 303
    assert response.headers["Location"] == f"{door.list}?q=ada#party-{door.ada}"
    partly = registration(app, door.ada)
    assert (partly.amount_paid_cents, partly.payment_state) == (450, PaymentState.DUE_AT_DOOR)
    page = text(organiser.get(door.list, query_string={"q": "ada"}))
    assert "Paid at the door €4.50; To pay at the door €5.50" in page
    assert "Paid €5.50 at the door" in page


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "Please write an amount in euros, like 4,50."),
        ("0", "Please write an amount in euros, like 4,50."),
        ("-5", "Please write an amount in euros, like 4,50."),
        ("", "Please write an amount in euros, like 4,50."),
        ("100", "Only €10.00 is still to pay."),
    ],
)
def test_a_door_payment_that_is_not_a_positive_amount_is_refused(
    app, organiser, door, amount, message
):
    url = f"/manage/events/{door.event}/parties/{door.ada}/door-payment"

    response = post_form(organiser, url, {"amount": amount, "on_page": "1"})

    assert response.status_code == 422
    page = text(response)
    assert f'<p class="error" id="amount-error">{message}</p>' in page
    assert typed_amount(page) == amount
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0

    in_row = post_form(organiser, url, {"amount": amount}, headers=htmx(target=f"party-{door.ada}"))
    assert in_row.status_code == 422 and message in text(in_row)


def test_an_amount_too_long_to_read_is_refused_in_the_users_language(app, organiser, door):
    url = f"/manage/events/{door.event}/parties/{door.ada}/door-payment?lang=nl"

    response = post_form(organiser, url, {"amount": "1" * 25, "on_page": "1"})

    assert response.status_code == 422
    page = text(response)
    assert "Veld mag niet langer zijn dan 20 karakters." in page
    assert typed_amount(page) == "1" * 25
    assert registration(app, door.ada).amount_paid_cents == 0


def test_a_tap_whose_shown_amount_is_no_number_records_the_payment(app, organiser, door):
    url = f"/manage/events/{door.event}/parties/{door.ada}/door-payment"

    response = post_form(organiser, url, {"amount": "10", "expected_open_cents": "tien"})

    assert response.status_code == 303
    assert registration(app, door.ada).amount_paid_cents == 1000


def test_no_door_payment_for_a_party_that_owes_nothing_or_has_no_place(app, organiser, door):
    for party, message in (
        (door.chris, "This party has nothing left to pay."),
        (door.gus, "Only a party with a place can pay at the door."),
    ):
        response = post_form(
            organiser,
            f"/manage/events/{door.event}/parties/{party}/door-payment",
            {"amount": "5"},
            headers=htmx(target=f"party-{party}"),
        )
        assert response.status_code == 422 and message in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


# ---------------------------------------------------------------------------------------
# Cancel and refund a party that paid online


def test_an_organiser_cancels_and_refunds_a_party_that_paid_online(
    app, client, auth, fake_stripe, paid
):
    with app.app_context():
        db.session.get(Event, paid.event).refund_until = utcnow() - timedelta(days=1)
        db.session.commit()
    log_in(client, auth)
    page = text(client.get(f"/manage/events/{paid.event}/attendees"))
    assert "Paid online €14.00" in page
    assert "Received online</dt><dd>€14.00" in page
    url = f"/manage/events/{paid.event}/parties/{paid.party}/refund"
    assert f'href="{url}"' in page

    confirm = text(client.get(url))
    assert "Cancel the registration of Ada and refund it?" in confirm
    assert "€14.00 paid online goes back to their account" in confirm
    response = post_form(client, url)

    assert response.status_code == 303
    assert "is cancelled and €14.00 is refunded online" in text(
        client.get(response.headers["Location"])
    )
    party = registration(app, paid.party)
    assert party.status == RegistrationStatus.CANCELLED
    assert party.payment_state == PaymentState.REFUNDED
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 1400
    cancelled = text(client.get(f"/manage/events/{paid.event}/attendees?show=cancelled"))
    assert "Refunded" in cancelled and "Cancel and refund" not in cancelled
    again = post_form(client, url)
    assert again.status_code == 303 and len(fake_stripe.refunds) == 1


def test_when_stripe_does_not_answer_nothing_is_cancelled(
    app, client, auth, fake_stripe, paid, monkeypatch
):
    log_in(client, auth)
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    fake_stripe.timeout_next_requests(2, 2.0)  # the SDK tries twice

    response = post_form(client, f"/manage/events/{paid.event}/parties/{paid.party}/refund")

    assert response.status_code == 503
    assert "Stripe does not answer right now, so nothing is cancelled or refunded." in text(
        response
    )
    party = registration(app, paid.party)
    assert party.status == RegistrationStatus.CONFIRMED
    assert party.payment_state == PaymentState.PAID
    assert fake_stripe.refunds == {}


def test_a_party_that_paid_at_the_door_has_no_refund_button(organiser, door):
    post_form(
        organiser, f"/manage/events/{door.event}/parties/{door.ada}/door-payment", {"amount": "10"}
    )
    page = text(organiser.get(door.list))
    assert "Cancel and refund" not in page
    response = post_form(organiser, f"/manage/events/{door.event}/parties/{door.ada}/refund")
    assert response.status_code == 303
    assert "This party has nothing paid online to refund." in text(
        organiser.get(response.headers["Location"])
    )
