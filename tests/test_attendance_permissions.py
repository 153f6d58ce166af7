"""Who may use the attendance pages: the event's organisers and admins; everyone else gets
403, or the log-in page when not logged in. Every route, every role; and the ticket page,
which shows its check-in part to the event's organisers only."""

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Attendee, OutboxMessage, Payment, Registration
from cooperative.services.registration import PersonChoice
from tests.conftest import post_form
from tests.factories import (
    make_collective,
    make_event,
    make_organiser,
    make_registration,
    make_user,
)

ROLES = ("anonymous", "member", "host_organiser", "other_organiser", "admin")
EMAILS = {
    "member": "member@example.org",
    "host_organiser": "host@example.org",
    "other_organiser": "other@example.org",
    "admin": "admin@example.org",
}
ALLOWED = {"host_organiser", "admin"}


@pytest.fixture
def world(app):
    """Zonnedak's Buurtdiner with one party of two that pays €10 at the door, one person
    checked in already (for the undo routes)."""
    with app.app_context():
        host = make_collective("zonnedak", "Zonnedak")
        other = make_collective("voedselbank", "Voedselbank")
        make_user(email=EMAILS["member"], name="Mila Member")
        host_organiser = make_organiser(host, email=EMAILS["host_organiser"], name="Hans Host")
        make_organiser(other, email=EMAILS["other_organiser"], name="Olga Other")
        make_user(email=EMAILS["admin"], name="Ada Admin", is_admin=True)
        event = make_event(collective_id=host.id, meals=[{"name": "Diner"}])
        dinner = event.meal_options[0].id
        party = make_registration(event, [PersonChoice("Ada", dinner), PersonChoice("Bob", dinner)])
        bob = party.attendees[1]
        bob.checked_in_at = party.created_at
        bob.checked_in_by_id = host_organiser.id
        db.session.commit()
        return SimpleNamespace(
            event=event.id,
            dinner=dinner,
            party=party.id,
            ada=party.attendees[0].id,
            bob=bob.id,
            ticket=party.attendees[0].ticket,
        )


def log_in(client, auth, role: str) -> None:
    client.get("/auth/login?lang=en")
    if role != "anonymous":
        assert auth.login(email=EMAILS[role]).status_code in (302, 303)


HTMX = {"HX-Request": "true", "HX-Target": "attendee-list", "HX-Trigger": "attendee-list"}


def routes(world) -> dict[str, tuple]:
    """name: (method, url, form data or None, headers, status when allowed)."""
    base = f"/manage/events/{world.event}"
    party = f"{base}/parties/{world.party}"
    return {
        "list": ("get", f"{base}/attendees", None, {}, 200),
        "list fragment": ("get", f"{base}/attendees?q=ada", None, HTMX, 200),
        "counters": ("get", f"{base}/attendees/counters", None, HTMX, 200),
        "csv": ("get", f"{base}/attendees.csv", None, {}, 200),
        "print": ("get", f"{base}/attendees/print", None, {}, 200),
        "kitchen": ("get", f"{base}/kitchen", None, {}, 200),
        "code page": ("get", f"{base}/check-in", None, {}, 200),
        "walk-in form": ("get", f"{base}/walk-in", None, {}, 200),
        "walk-in": ("post", f"{base}/walk-in", {"name": "Wim", "meal": ""}, {}, 303),
        "message form": ("get", f"{base}/message", None, {}, 200),
        "message": (
            "post",
            f"{base}/message",
            {"audience": "confirmed", "subject": "Parkeren", "body": "Bij de kerk."},
            {},
            303,
        ),
        "check in": ("post", f"{base}/attendees/{world.ada}/check-in", {}, {}, 303),
        "undo": ("post", f"{base}/attendees/{world.bob}/undo", {}, {}, 303),
        "party check in": ("post", f"{party}/check-in", {}, {}, 303),
        "party undo": ("post", f"{party}/undo", {}, {}, 303),
        "door payment form": ("get", f"{party}/door-payment", None, {}, 200),
        "door payment": ("post", f"{party}/door-payment", {"amount": "10"}, {}, 303),
        "refund form": ("get", f"{party}/refund", None, {}, 200),
        "refund": ("post", f"{party}/refund", {}, {}, 303),
    }


def state(app, world) -> dict:
    """What the actions could change, to compare before and after."""
    with app.app_context():
        return {
            "checked in": sorted(
                db.session.scalars(
                    sa.select(Attendee.id).where(Attendee.checked_in_at.is_not(None))
                )
            ),
            "registrations": db.session.scalar(sa.select(sa.func.count(Registration.id))),
            "statuses": sorted(db.session.scalars(sa.select(Registration.status))),
            "payments": db.session.scalar(sa.select(sa.func.count(Payment.id))),
            "messages": db.session.scalar(
                sa.select(sa.func.count(OutboxMessage.id)).where(
                    OutboxMessage.subject == "Buurtdiner: Parkeren"
                )
            ),
        }


ROUTE_NAMES = tuple(routes(SimpleNamespace(event=1, party=1, ada=1, bob=2)))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTE_NAMES)
def test_who_may_use_each_route(app, client, auth, world, role, route):
    log_in(client, auth, role)
    method, url, data, headers, ok_status = routes(world)[route]
    before = state(app, world)

    if method == "get":
        response = client.get(url, headers=headers)
    else:
        response = post_form(client, url, data, headers=headers)

    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")
    elif role in ALLOWED:
        assert response.status_code == ok_status
    else:
        assert response.status_code == 403
    after = state(app, world)
    if method == "get" or role not in ALLOWED:
        assert after == before
    else:
        assert after != before or route == "refund"  # nothing was paid online to refund


@pytest.mark.parametrize("role", ROLES)
def test_an_event_without_a_host_collective_is_for_admins_only(app, client, auth, world, role):
    with app.app_context():
        event = make_event("open-dag", "Open dag")
        person = make_registration(event, ["Zed"], email="zed@example.org").attendees[0].id
        event_id = event.id
    log_in(client, auth, role)

    listing = client.get(f"/manage/events/{event_id}/attendees")
    check_in = post_form(client, f"/manage/events/{event_id}/attendees/{person}/check-in")

    expected = {"anonymous": (302, 302), "admin": (200, 303)}.get(role, (403, 403))
    assert (listing.status_code, check_in.status_code) == expected
    with app.app_context():
        checked = db.session.get(Attendee, person).checked_in_at is not None
    assert checked == (role == "admin")


@pytest.mark.parametrize("role", ROLES)
def test_the_ticket_shows_its_check_in_part_to_the_events_organisers_only(
    app, client, auth, world, role
):
    log_in(client, auth, role)

    response = client.get(f"/t/{world.ticket}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ticket of Ada" in page
    door = "At the door" in page
    button = f'action="/manage/events/{world.event}/attendees/{world.ada}/check-in"' in page
    assert door == button == (role in ALLOWED)


def test_an_unknown_event_is_not_found(client, auth, world):
    log_in(client, auth, "admin")
    assert client.get("/manage/events/999999/attendees").status_code == 404
    assert post_form(client, "/manage/events/999999/attendees/1/check-in").status_code == 404


@pytest.mark.parametrize(
    "path", ["attendees/{ada}/check-in", "attendees/{bob}/undo", "parties/{party}/door-payment"]
)
def test_actions_without_the_csrf_token_change_nothing(app, client, auth, world, path):
    log_in(client, auth, "host_organiser")
    before = state(app, world)
    url = f"/manage/events/{world.event}/" + path.format(**vars(world))

    response = client.post(url, data={"amount": "10"})

    assert response.status_code == 400
    assert state(app, world) == before


def test_actions_are_posts_only(client, auth, world):
    log_in(client, auth, "host_organiser")
    base = f"/manage/events/{world.event}"
    for path in (
        f"attendees/{world.ada}/check-in",
        f"attendees/{world.bob}/undo",
        f"parties/{world.party}/check-in",
        f"parties/{world.party}/undo",
    ):
        assert client.get(f"{base}/{path}").status_code == 405
