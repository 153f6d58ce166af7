"""The calendar feed /events.ics, the single calendar file, and the event page's JSON-LD."""

import json
import re
from datetime import timedelta

import pytest
from icalendar import Calendar

from cooperative import create_app
from cooperative.extensions import db
from cooperative.models import EventStatus
from cooperative.services.registration import PersonChoice
from tests.factories import (
    AMSTERDAM,
    amsterdam_time,
    make_collective,
    make_domain,
    make_event,
    make_event_at,
    make_registration,
)
from tests.ical import offset_in_file, zone_onsets


@pytest.fixture
def events(app):
    with app.app_context():
        energie = make_domain("energie", "Energie", "Energy")
        voedsel = make_domain("voedsel", "Voedsel", "Food")
        zonnedak = make_collective("zonnedak", "Zonnedak Oost", domain=energie)
        make_collective("pluktuin", "Pluktuin West", domain=voedsel)
        # Half a year apart: mostly one in winter time and one in summer time.
        make_event_at(
            "zonnepanelen", "Zonnepanelen avond", amsterdam_time(3, 19, 30), collective=zonnedak
        )
        make_event_at("zomeravond", "Zomeravond", amsterdam_time(190, 20, 0))
        make_event("concept", "Geheim concept", status=EventStatus.DRAFT, collective=zonnedak)
        make_event("afgelast", "Afgelast", status=EventStatus.CANCELLED)
        make_event("oud", "Oud feest", starts_in=timedelta(days=-3))


def calendar_of(response) -> Calendar:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def vevents(calendar: Calendar) -> dict[str, object]:
    return {str(entry["summary"]): entry for entry in calendar.walk("VEVENT")}


def test_the_feed_has_upcoming_published_events_in_amsterdam_time(client, events):
    calendar = calendar_of(client.get("/events.ics"))

    zones = [str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")]
    assert zones == ["Europe/Amsterdam"]
    entries = vevents(calendar)
    assert set(entries) == {"Zonnepanelen avond", "Zomeravond"}
    for title, (hour, minute) in {"Zonnepanelen avond": (19, 30), "Zomeravond": (20, 0)}.items():
        start = entries[title]["dtstart"]
        assert start.params["TZID"] == "Europe/Amsterdam"
        assert (start.dt.hour, start.dt.minute) == (hour, minute)
        assert start.dt.utcoffset() == start.dt.astimezone(AMSTERDAM).utcoffset()
    assert str(calendar["x-wr-calname"]) == "MeentCoop"


def test_the_time_zone_in_a_file_spans_the_years_of_its_events(client, events):
    """The VTIMEZONE holds the zone's changes of the years its events fall in, not seventy
    years of them; each event's start falls under an observance with its own offset."""
    calendar = calendar_of(client.get("/events.ics"))
    starts = [entry.decoded("DTSTART") for entry in calendar.walk("VEVENT")]
    years = {start.year for start in starts}
    onsets = zone_onsets(calendar)
    assert {onset.year for onset, _ in onsets} <= years
    assert len(onsets) <= 3 * len(years)
    for start in starts:
        assert offset_in_file(calendar, start) == start.utcoffset()


def test_an_event_keeps_its_uid_in_its_own_file_and_in_the_feed(client, events):
    single = vevents(calendar_of(client.get("/events/zonnepanelen.ics")))
    feed = vevents(calendar_of(client.get("/events.ics")))
    again = vevents(calendar_of(client.get("/events.ics")))

    uid = str(single["Zonnepanelen avond"]["uid"])
    assert uid == str(feed["Zonnepanelen avond"]["uid"]) == str(again["Zonnepanelen avond"]["uid"])
    assert uid != str(feed["Zomeravond"]["uid"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("domain=energie", {"Zonnepanelen avond"}),
        ("collective=zonnedak", {"Zonnepanelen avond"}),
        ("collective=pluktuin", set()),
        ("q=ZOMER", {"Zomeravond"}),
        ("period=week", {"Zonnepanelen avond"}),
        ("period=month&q=zomer", set()),
        ("domain=onbekend", set()),
        ("period=xyz", set()),
        ("q=" + "x" * 5000, set()),
    ],
)
def test_the_feed_takes_the_lists_filters(client, events, query, expected):
    calendar = calendar_of(client.get(f"/events.ics?{query}"))

    assert set(vevents(calendar)) == expected


def test_a_filtered_feed_is_named_after_its_filters(client, events):
    calendar = calendar_of(client.get("/events.ics?collective=zonnedak&domain=energie&lang=en"))

    assert str(calendar["x-wr-calname"]) == "MeentCoop · Zonnedak Oost · Energy"


def test_drafts_never_appear(client, events):
    assert b"Geheim concept" not in client.get("/events.ics").data
    assert b"Geheim concept" not in client.get("/events.ics?collective=zonnedak").data
    assert client.get("/events/concept.ics").status_code == 404


def test_the_feed_and_the_single_file_do_not_clash(client, events):
    assert set(vevents(calendar_of(client.get("/events.ics")))) == {
        "Zonnepanelen avond",
        "Zomeravond",
    }
    assert set(vevents(calendar_of(client.get("/events/zomeravond.ics")))) == {"Zomeravond"}
    assert client.get("/events/.ics").status_code == 404


# --- JSON-LD on the event page ----------------------------------------------------------------

LD_RE = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def structured_data(client, slug: str) -> dict:
    response = client.get(f"/events/{slug}?lang=en")
    assert response.status_code == 200
    blocks = LD_RE.findall(response.get_data(as_text=True))
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_the_event_page_describes_the_event_for_search_engines(client, app):
    with app.app_context():
        zonnedak = make_collective("zonnedak", "Zonnedak Oost", website="https://zonnedak.example")
        starts = amsterdam_time(5, 17, 30)
        event = make_event_at(
            "buurtdiner",
            "Buurtdiner",
            starts,
            hours=3,
            collective=zonnedak,
            capacity=20,
            ticket_price_cents=250,
            venue="Buurthuis De Meent",
            address="Voorbeeldstraat 4, Amsterdam",
            description="Samen eten.",
            meals=[
                {"name": "Diner", "price_cents": 500, "capacity": 10},
                {"name": "Soep", "price_cents": 0, "capacity": 1},
                {"name": "Taart", "price_cents": 0, "pwyc_min_cents": 100, "capacity": None},
            ],
        )
        soup = event.meal_options[1].id
        make_registration(event, people=[PersonChoice(name="Ada", meal_option_id=soup), "Bo"])

    data = structured_data(client, "buurtdiner")

    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Event"
    assert data["name"] == "Buurtdiner"
    assert data["description"] == "Samen eten."
    assert data["url"] == "http://localhost/events/buurtdiner"
    assert data["startDate"] == starts.isoformat()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT17:30:00\+0[12]:00", data["startDate"])
    assert data["endDate"] == (starts + timedelta(hours=3)).isoformat()
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert data["location"] == {
        "@type": "Place",
        "name": "Buurthuis De Meent",
        "address": "Voorbeeldstraat 4, Amsterdam",
    }
    assert data["organizer"] == {
        "@type": "Organization",
        "name": "Zonnedak Oost",
        "url": "https://zonnedak.example",
    }
    assert data["maximumAttendeeCapacity"] == 20
    assert data["remainingAttendeeCapacity"] == 18
    offers = {offer["name"]: offer for offer in data["offers"]}
    assert list(offers) == ["Entry", "Diner", "Soep", "Taart"]
    assert offers["Entry"]["price"] == "2.50"
    assert offers["Diner"]["price"] == "5.00"
    assert offers["Diner"]["availability"] == "https://schema.org/InStock"
    assert offers["Soep"]["price"] == "0.00"
    assert offers["Soep"]["availability"] == "https://schema.org/SoldOut"
    assert offers["Taart"]["priceSpecification"]["minPrice"] == "1.00"
    for offer in offers.values():
        assert offer["@type"] == "Offer"
        assert offer["priceCurrency"] == "EUR"
        assert offer["url"] == "http://localhost/events/buurtdiner"


def test_a_cancelled_event_says_so_and_the_cooperative_organises_unhosted_ones(client, app):
    with app.app_context():
        make_event("afgelast", "Afgelast", status=EventStatus.CANCELLED, capacity=None)

    data = structured_data(client, "afgelast")

    assert data["eventStatus"] == "https://schema.org/EventCancelled"
    assert data["organizer"] == {
        "@type": "Organization",
        "name": "MeentCoop",
        "url": "http://localhost/",
    }
    assert "offers" not in data
    assert data["isAccessibleForFree"] is True
    assert "maximumAttendeeCapacity" not in data


def test_a_hostile_title_cannot_leave_the_script_element(client, app):
    title = "</script><script>alert(1)</script> & 'quotes'"
    with app.app_context():
        make_event("gevaarlijk", title)

    html = client.get("/events/gevaarlijk").get_data(as_text=True)

    assert "<script>alert(1)" not in html
    assert len(LD_RE.findall(html)) == 1
    assert structured_data(client, "gevaarlijk")["name"] == title


def test_the_time_zone_is_one_setting(app, database_url, events):
    """BABEL_DEFAULT_TIMEZONE alone decides the time zone of the calendar and the API."""
    london = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BASE_URL": "http://localhost",
            "BABEL_DEFAULT_TIMEZONE": "Europe/London",
            "PAGE_CACHE_BYTES": 0,
        }
    )
    client = london.test_client()
    calendar = calendar_of(client.get("/events.ics"))
    assert [str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    start = vevents(calendar)["Zonnepanelen avond"]["dtstart"]
    assert start.params["TZID"] == "Europe/London"
    assert (start.dt.hour, start.dt.minute) == (18, 30)
    event = client.get("/api/v1/events/zonnepanelen").get_json()
    assert event["starts_at"].endswith("T18:30:00+00:00")
    with london.app_context():
        db.engine.dispose()
