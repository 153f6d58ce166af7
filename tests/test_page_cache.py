"""Public pages kept in memory for anonymous visitors (cooperative/page_cache.py): answered
with one statement, never stale after a change, never shared with a logged-in member, and
each visitor with their own CSRF token."""

import gzip
import re
import time
from datetime import timedelta

import brotli
import pytest
import sqlalchemy as sa

from cooperative import create_app, page_cache
from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    Event,
    OutboxMessage,
    PageVersion,
    Registration,
    User,
    utcnow,
)
from cooperative.page_cache import Page, PageStore
from cooperative.services import attendance
from cooperative.services.accounts import log_out_everywhere
from cooperative.services.registration import cancel_attendee
from tests.conftest import csrf_token
from tests.factories import (
    make_collective,
    make_domain,
    make_event,
    make_organiser,
    make_registration,
    make_user,
)

PUBLIC = ["/", "/events", "/events/buurtdiner", "/collectives", "/api/v1/events"]
TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def event(app):
    with app.app_context():
        make_collective(domain=make_domain())
        return make_event(capacity=10).id


def version(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(PageVersion.version))


def seats_words(response) -> str:
    return re.search(r"(\d+) seats? left", response.get_data(as_text=True)).group(0)


@pytest.fixture
def check_every(app):
    """Set how often the page version is read (seconds) for one test."""
    reader = app.extensions["page_versions"]
    default = reader.interval

    def check_every(seconds: float) -> None:
        reader.interval = seconds

    yield check_every
    reader.interval = default


@pytest.mark.parametrize("url", PUBLIC)
def test_a_second_visit_is_answered_from_memory_with_the_version_at_most(
    app, client, event, count_queries, check_every, url
):
    check_every(0)
    with count_queries as counted:
        first = client.get(url)
    built = counted.count
    with count_queries as counted:
        second = app.test_client().get(url)
    assert first.status_code == second.status_code == 200
    assert built > 1
    assert counted.count == 1, counted.statements  # only the page version
    assert second.get_data() == first.get_data() or url == "/events/buurtdiner"

    check_every(60)
    with count_queries as counted:
        third = app.test_client().get(url)
    assert counted.count == 0, "the version was read less than a minute ago"
    assert third.status_code == 200


def test_registering_shows_at_once_on_the_kept_pages(app, client, event):
    assert seats_words(client.get("/events/buurtdiner?lang=en")) == "10 seats left"
    assert client.get("/api/v1/events").get_json()["events"][0]["seats_left"] == 10
    before = version(app)

    visitor = app.test_client()
    page = visitor.get("/events/buurtdiner?lang=en").get_data(as_text=True)
    response = visitor.post(
        "/events/buurtdiner/register?lang=en",
        data={
            "csrf_token": TOKEN_RE.search(page).group(1),
            "contact_name": "Ada de Vries",
            "contact_email": "ada@example.org",
            "people-0-name": "Ada",
            "people-1-name": "Bram",
            "submit": "register",
        },
    )
    assert response.status_code == 303
    assert version(app) == before + 1

    assert seats_words(client.get("/events/buurtdiner?lang=en")) == "8 seats left"
    assert client.get("/api/v1/events").get_json()["events"][0]["seats_left"] == 8


def test_only_writes_to_what_pages_show_count_up(app, event):
    before = version(app)
    with app.app_context():
        db.session.add(OutboxMessage(to_address="a@example.org", subject="Hoi", body_text="."))
        db.session.commit()
    assert version(app) == before, "an e-mail in the outbox changes no page"

    with app.app_context():
        db.session.add(Event(slug="x", title="X", starts_at=db.func.now()))
        db.session.rollback()
        db.session.get(Event, event).title = "Niet bewaard"
        db.session.rollback()
    assert version(app) == before, "nothing committed, nothing counted"

    with app.app_context():
        db.session.execute(sa.update(Event).values(capacity=Event.capacity + 1))
        db.session.commit()
    assert version(app) == before + 1, "a bulk UPDATE counts too"

    with app.app_context():
        make_registration(db.session.get(Event, event))
        db.session.execute(sa.delete(Registration))
        db.session.commit()
    assert version(app) == before + 3, "one for each committed transaction"


def test_a_check_in_at_the_door_leaves_the_kept_pages(app, event):
    with app.app_context():
        party = make_registration(db.session.get(Event, event), people=("Ada", "Bram"))
        volunteer = make_organiser(make_collective("keuken", "Keuken")).id
        ada = party.attendees[0].id
    before = version(app)
    with app.app_context():
        by = db.session.get(User, volunteer)
        assert attendance.check_in(db.session.get(Event, event), ada, by).changed
        db.session.commit()
    assert version(app) == before, "who came is not on any public page"
    with app.app_context():
        cancel_attendee(db.session.get(Attendee, ada))
        db.session.commit()
    assert version(app) == before + 1, "a seat freed is"


def test_writes_however_sent_count_up(app, event):
    """Not only the ORM: statements on the session's connection and raw SQL count too."""
    before = version(app)
    with app.app_context():
        db.session.connection().execute(sa.update(Event).values(title="Soepavond"))
        db.session.commit()
    assert version(app) == before + 1, "through session.connection().execute()"

    with app.app_context():
        db.session.connection().exec_driver_sql("UPDATE events SET title = 'Buurtdiner'")
        db.session.commit()
    assert version(app) == before + 2, "raw SQL that writes"

    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.update(Event).values(capacity=12))
    assert version(app) == before + 3, "a connection of its own"

    with app.app_context():
        db.session.connection().execute(sa.update(Event).values(capacity=13))
        db.session.rollback()
        db.session.connection().exec_driver_sql("SELECT title FROM events")
        db.session.commit()
    assert version(app) == before + 3, "rolled back, then only read"


def test_a_table_no_model_declares_counts(app, event):
    """A new table is shown unless its model says otherwise (NOT_ON_PUBLIC_PAGES)."""
    new_table = sa.Table("new_things", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    with app.app_context():
        new_table.create(db.engine)
    before = version(app)
    try:
        with app.app_context():
            db.session.execute(sa.insert(new_table).values(id=1))
            db.session.commit()
        assert version(app) == before + 1
    finally:
        with app.app_context():
            new_table.drop(db.engine)


def test_only_shown_columns_count_up(app, event):
    """An UPDATE that sets only columns no public page shows (who came, when) leaves the
    pages alone, however it is sent; one that also sets a shown column counts."""
    with app.app_context():
        party = make_registration(db.session.get(Event, event), people=("Ada",))
        ada = party.attendees[0].id
    before = version(app)
    with app.app_context():
        db.session.connection().execute(
            sa.update(Attendee).where(Attendee.id == ada).values(checked_in_at=utcnow())
        )
        db.session.get(Attendee, ada).checked_in_by_id = None  # through the ORM
        db.session.commit()
    assert version(app) == before
    with app.app_context():
        db.session.execute(
            sa.update(Attendee).where(Attendee.id == ada).values(checked_in_at=None, name="Ada B")
        )
        db.session.commit()
    assert version(app) == before + 1


def test_logging_out_everywhere_leaves_the_kept_pages(app, event):
    with app.app_context():
        user = make_user()
        before = version(app)
        log_out_everywhere(user)
        db.session.commit()
    assert version(app) == before, "the session key is on no public page"


def test_a_logged_in_member_never_gets_or_leaves_a_kept_page(app, client, event):
    anonymous = client.get("/").get_data(as_text=True)
    assert "Log out" not in anonymous and "Uitloggen" not in anonymous

    with app.app_context():
        make_user(name="Ada Lovelace")
    member = app.test_client()
    member.post(
        "/auth/login",
        data={
            "csrf_token": csrf_token(member),
            "email": "resident@example.org",
            "password": "correct horse battery",
        },
    )
    own = member.get("/").get_data(as_text=True)
    assert "Uitloggen" in own and 'name="csrf_token"' in own

    again = app.test_client().get("/").get_data(as_text=True)
    assert "Uitloggen" not in again and 'name="csrf_token"' not in again


def test_a_waiting_message_is_shown_and_not_kept_for_others(app, client, event):
    client.get("/events")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Je bent aangemeld.")]
    assert "Je bent aangemeld." in client.get("/events").get_data(as_text=True)
    assert "Je bent aangemeld." not in client.get("/events").get_data(as_text=True)
    assert "Je bent aangemeld." not in app.test_client().get("/events").get_data(as_text=True)


def test_each_visitor_gets_their_own_csrf_token_on_a_kept_form(app, event):
    first, second = app.test_client(), app.test_client()
    first_page = first.get("/events/buurtdiner").get_data(as_text=True)
    second_page = second.get("/events/buurtdiner").get_data(as_text=True)
    first_token = TOKEN_RE.search(first_page).group(1)
    second_token = TOKEN_RE.search(second_page).group(1)
    assert first_token != second_token
    assert page_cache.TOKEN_MARK.decode() not in second_page

    # Each token works for its own visitor only.
    for visitor, token, email in (
        (first, first_token, "a@example.org"),
        (second, second_token, "b@example.org"),
    ):
        response = visitor.post(
            "/events/buurtdiner/register",
            data={
                "csrf_token": token,
                "contact_name": "Ada",
                "contact_email": email,
                "people-0-name": "Ada",
                "submit": "register",
            },
        )
        assert response.status_code == 303
    refused = first.post(
        "/events/buurtdiner/register",
        data={
            "csrf_token": second_token,
            "contact_name": "Cor",
            "contact_email": "c@example.org",
            "people-0-name": "Cor",
            "submit": "register",
        },
    )
    assert refused.status_code == 400


def test_languages_and_htmx_fragments_are_kept_apart(app, client, event):
    dutch = client.get("/events").get_data(as_text=True)
    english = client.get("/events?lang=en").get_data(as_text=True)
    assert '<html lang="nl">' in dutch and '<html lang="en">' in english
    # The language cookie alone decides too.
    client.set_cookie("lang", "en")
    assert '<html lang="en">' in client.get("/events").get_data(as_text=True)

    fragment = app.test_client().get(
        "/events", headers={"HX-Request": "true", "HX-Target": "event-list"}
    )
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<html" in app.test_client().get("/events").get_data(as_text=True)


def test_a_browser_that_has_the_page_gets_304(app, client, event):
    first = client.get("/events", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    etag = first.headers["ETag"]
    again = client.get("/events", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304
    with app.app_context():
        db.session.get(Event, event).title = "Soepavond"
        db.session.commit()
    changed = client.get("/events", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert changed.status_code == 200


def test_a_kept_page_is_rebuilt_when_it_is_too_old(app, client, event, count_queries, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 0)
    client.get("/events")
    with count_queries as counted:
        client.get("/events")
    assert counted.count > 1


def test_errors_and_drafts_are_not_kept(app, client, event):
    with app.app_context():
        make_event(slug="geheim", title="Geheim", status="draft")
    for _ in range(2):
        assert client.get("/events/geheim").status_code == 404
        assert client.get("/api/v1/events?limit=-1").status_code == 400
    with app.app_context():
        assert len(page_cache.store()) == 0


def test_the_store_keeps_within_its_budget_dropping_the_least_used():
    pages = PageStore(max_bytes=4000)

    def page(size: int, version: int = 1) -> Page:
        return Page(version, float("inf"), (), b"x" * size, False, None)

    for key in "abcd":
        pages.put(key, page(1000))
    assert pages.get("a", 1) is not None  # "a" is now the most recently used
    pages.put("e", page(1000))
    assert pages.get("b", 1) is None
    assert all(pages.get(key, 1) is not None for key in "acde")
    pages.put("huge", page(1001))  # more than a quarter of the budget: not kept
    assert pages.get("huge", 1) is None
    assert pages.get("a", 2) is None, "another version: dropped"
    assert len(pages) == 3


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_kept_page_is_kept_compressed(app, event, encoding):
    plain = app.test_client().get("/events", headers={"Accept-Encoding": "identity"})
    for _ in range(2):  # built, then from memory
        response = app.test_client().get(
            "/events", headers={"Accept-Encoding": f"zstd;q=0.5, {encoding}"}
        )
        assert response.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        decode = brotli.decompress if encoding == "br" else gzip.decompress
        assert decode(response.get_data()) == plain.get_data()


def test_the_version_is_read_again_after_the_database_dropped_the_connection(app, client, event):
    assert client.get("/events").status_code == 200
    with app.app_context():
        reader = app.extensions["page_versions"]
        reader._connection.connection.dbapi_connection.close()  # as a restart would
    assert client.get("/events").status_code == 200
    with app.app_context():
        db.session.get(Event, event).title = "Soepavond"
        db.session.commit()
    assert "Soepavond" in client.get("/events").get_data(as_text=True)


def test_another_process_s_change_shows_once_the_version_is_read_again(
    app, client, event, database_url, check_every
):
    """Another app process (another host) writes: its commit counts the version up in the
    database, so this process's kept page is not used any more once it reads the version
    again (at most PAGE_CACHE_CHECK_MS later)."""
    check_every(60)
    assert "Buurtdiner" in client.get("/events").get_data(as_text=True)
    other = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x"}
    )
    with other.app_context():
        db.session.get(Event, event).title = "Soepavond"
        db.session.commit()
        db.engine.dispose()
    assert "Buurtdiner" in client.get("/events").get_data(as_text=True), "not read yet"
    check_every(0)
    assert "Soepavond" in client.get("/events").get_data(as_text=True)


def test_this_process_s_own_change_shows_at_once(app, client, event, check_every):
    check_every(60)
    assert "Buurtdiner" in client.get("/events").get_data(as_text=True)
    with app.app_context():
        db.session.get(Event, event).title = "Soepavond"
        db.session.commit()
    assert "Soepavond" in client.get("/events").get_data(as_text=True)


def test_a_savepoint_counts_with_its_transaction(app, event):
    before = version(app)
    with app.app_context():
        db.session.get(Event, event).title = "Soepavond"
        db.session.flush()
        with db.session.begin_nested():  # released: the transaction goes on
            db.session.add(OutboxMessage(to_address="a@example.org", subject="Hoi", body_text="."))
        in_transaction = db.session.scalar(sa.select(PageVersion.version))
        assert in_transaction == before, "not counted up before the transaction commits"
        savepoint = db.session.begin_nested()
        db.session.get(Event, event).capacity = 99
        savepoint.rollback()  # what came before it still commits
        db.session.commit()
    assert version(app) == before + 1


def test_an_event_page_is_not_kept_past_the_opening_of_registration(
    app, client, event, check_every
):
    check_every(60)
    with app.app_context():
        db.session.get(Event, event).registration_opens_at = utcnow() + timedelta(seconds=1)
        db.session.commit()
    assert 'name="people-0-name"' not in client.get("/events/buurtdiner").get_data(as_text=True)
    time.sleep(1.1)
    assert 'name="people-0-name"' in client.get("/events/buurtdiner").get_data(as_text=True)
