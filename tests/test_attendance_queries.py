"""The list, its counters and a tap at the door cost as many statements for many parties
as for few.
"""

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Event,
    Registration,
    User,
)
from cooperative.services import attendance
from cooperative.services.registration import PersonChoice
from tests import attendance_fixtures
from tests.attendance_fixtures import (
    ORGANISER,
    attendee,
    htmx,
    log_in,
    party_names,
    text,
)
from tests.conftest import csrf_token
from tests.factories import make_registration

door = attendance_fixtures.door
organiser = attendance_fixtures.organiser


# ---------------------------------------------------------------------------------------
# Queries do not grow with the number of people


def fill(app, event_id, first: int, last: int) -> None:
    """Parties of three, numbered first..last-1: one eats vegan with a note, one is checked
    in, and each party pays part at the door."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        dinner = event.meal_options[0].id
        organiser = db.session.scalar(sa.select(User).where(User.email == ORGANISER))
        for number in range(first, last):
            party = make_registration(
                event,
                [
                    PersonChoice(f"Guest {number}", dinner, ["vegan"], "Note"),
                    PersonChoice(f"Friend {number}"),
                    PersonChoice(f"Child {number}", dinner),
                ],
                email=f"guest{number}@example.org",
            )
            attendance.check_in(event, party.attendees[1].id, organiser)
            attendance.record_door_payment(party, 500, organiser)
            db.session.commit()


def measure(client, count_queries, door) -> dict[str, int]:
    counts = {}
    for name, url, headers in (
        ("page", door.list, {}),
        ("page 2", door.list + "?page=2", {}),
        ("fragment", door.list, htmx(trigger="attendee-list")),
        ("fragment 2", door.list + "?page=2", htmx(trigger="attendee-list")),
        ("search", door.list + "?q=guest&show=todo", htmx()),
        ("counters", f"/manage/events/{door.event}/attendees/counters", htmx("x", "x")),
    ):
        with count_queries as counted:
            assert client.get(url, headers=headers).status_code == 200
        counts[name] = counted.count
    return counts


def test_the_list_and_counters_cost_the_same_statements_for_3_and_60_parties(
    app, client, auth, door, count_queries
):
    with app.app_context():
        event = db.session.get(Event, door.event)
        event.capacity = None
        event.meal_options[0].capacity = None
        for party in db.session.scalars(sa.select(Registration)):
            db.session.delete(party)
        db.session.commit()
    log_in(client, auth)
    fill(app, door.event, 0, 3)
    client.get(door.list)

    few = measure(client, count_queries, door)
    fill(app, door.event, 3, 60)
    many = measure(client, count_queries, door)

    assert "60 parties, 180 people" in text(client.get(door.list))
    assert "Page 2 of 2" in text(client.get(door.list + "?page=2"))
    assert many == few
    # The whole page: the organiser and their roles, the event and its meals, the menu's
    # membership, the matching parties, the page's rows, the counters with the kitchen,
    # and the volunteers (issue 17: their tasks with the people in them).
    assert many["page"] <= 9, many


def test_a_tap_at_the_door_is_a_few_statements_and_a_small_answer(
    app, organiser, door, count_queries
):
    token = csrf_token(organiser)
    base = f"/manage/events/{door.event}"
    person, party = f"{base}/attendees/{door.ada_person}", f"{base}/parties/{door.ada}"
    costs = {}
    for name, url in (
        ("check in", f"{person}/check-in"),
        ("again", f"{person}/check-in"),
        ("undo", f"{person}/undo"),
        ("party", f"{party}/check-in"),
        ("undo party", f"{party}/undo"),
    ):
        with count_queries as counted:
            response = organiser.post(
                url, data={"csrf_token": token}, headers=htmx(target=f"party-{door.ada}")
            )
        assert response.status_code == 200, name
        assert response.headers["HX-Trigger"] == "checkin-changed"
        assert len(response.data) < 6000 and party_names(text(response)) == ["Ada Lovelace"]
        costs[name] = counted.count

    # The volunteer and their roles, the event and its meals; the UPDATE, its record, and
    # the party's row to send back.
    assert max(costs.values()) <= 8, costs
    assert attendee(app, door.ada_person).checked_in_at is None  # undone at the end
