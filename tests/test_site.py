"""Home page, language switch, health check, error pages and settings."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import request

from cooperative import create_app
from cooperative.extensions import db
from cooperative.models import Domain, Event, EventStatus, MembershipStatus, utcnow
from tests.factories import make_user


def add_event(slug: str, starts_in: timedelta, status=EventStatus.PUBLISHED, **fields) -> Event:
    starts = utcnow() + starts_in
    event = Event(
        slug=slug,
        title=fields.pop("title", slug.replace("-", " ").title()),
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        status=status,
        **fields,
    )
    db.session.add(event)
    db.session.commit()
    return event


def test_home_shows_upcoming_published_events_and_the_domains(client, app):
    with app.app_context():
        add_event("soon", timedelta(days=2), title="Buurtdiner")
        add_event("later", timedelta(days=9), title="Repareermiddag")
        add_event("draft", timedelta(days=3), status=EventStatus.DRAFT, title="Geheim plan")
        add_event("past", timedelta(days=-3), title="Oud feest")
        add_event("cancelled", timedelta(days=4), status=EventStatus.CANCELLED, title="Afgelast")
        db.session.add_all(
            [
                Domain(slug="energie", name_nl="Energie", name_en="Energy", position=0),
                Domain(slug="voedsel", name_nl="Voedsel", name_en="Food", position=1),
            ]
        )
        db.session.commit()

    page = client.get("/").get_data(as_text=True)

    assert '<html lang="nl">' in page
    assert page.index("Buurtdiner") < page.index("Repareermiddag")
    for hidden in ("Geheim plan", "Oud feest", "Afgelast"):
        assert hidden not in page
    assert page.index("Energie") < page.index("Voedsel")
    assert 'href="/collectives?domain=energie"' in page

    english = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Energy" in english and "Food" in english


def test_home_without_events_says_so(client):
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "No events are planned yet." in page


def test_language_switch_keeps_the_page_and_is_remembered(client):
    dutch = client.get("/auth/login?next=/join").get_data(as_text=True)
    assert "Wachtwoord vergeten?" in dutch
    assert 'href="/auth/login?next=%2Fjoin&amp;lang=en"' in dutch

    response = client.get("/auth/login?next=/join&lang=en")
    assert "Forgot your password?" in response.get_data(as_text=True)
    assert "lang=en" in response.headers["Set-Cookie"]

    again = client.get("/join").get_data(as_text=True)
    assert '<html lang="en">' in again
    assert 'href="/join?lang=nl"' in again

    back = client.get("/join?lang=nl").get_data(as_text=True)
    assert '<html lang="nl">' in back


def test_an_unknown_language_falls_back_to_dutch(client):
    page = client.get("/?lang=xx").get_data(as_text=True)
    assert '<html lang="nl">' in page


def test_htmx_posts_carry_the_csrf_token_in_their_forms(app, client, auth):
    """No page sends a token with every htmx request: each form that htmx posts carries
    its own, so a page looks the same whether or not it may be kept in memory."""
    with app.app_context():
        make_user()
    auth.login()
    page = client.get("/").get_data(as_text=True)
    assert "hx-headers" not in page and "<body>" in page
    assert "htmx-2.0.11.min.js" in page
    assert client.get("/static/js/htmx-2.0.11.min.js").status_code == 200


def test_a_visitor_who_only_looks_gets_no_cookie(client):
    """Anonymous pages without a form carry no token, so no session cookie is set."""
    response = client.get("/")
    assert response.status_code == 200
    assert "X-CSRFToken" not in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_404_in_both_languages(client):
    dutch = client.get("/bestaat-niet")
    assert dutch.status_code == 404
    assert "Pagina niet gevonden" in dutch.get_data(as_text=True)

    english = client.get("/bestaat-niet?lang=en")
    assert english.status_code == 404
    assert "Page not found" in english.get_data(as_text=True)


def test_500_page_rolls_back_and_apologises(database_url):
    app = create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/boom")
    def boom():
        raise RuntimeError("kapot")

    response = app.test_client().get("/boom?lang=en")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


def test_healthz_answers_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "worker": "never ran"}


def test_healthz_says_503_without_a_database(tmp_path):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'missing' / 'nowhere.sqlite'}"}
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_production_refuses_the_development_secret_key(monkeypatch):
    monkeypatch.setenv("COOP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_sets_secure_cookies(monkeypatch, database_url):
    monkeypatch.setenv("COOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-for-production")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_database_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://coop@db.internal/coop")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://coop@db.internal/coop"


@pytest.mark.parametrize(
    ("locale", "cents", "expected"),
    [
        ("nl", 500, "€\xa05,00"),
        ("en", 500, "€5.00"),
        ("nl", 123456, "€\xa01.234,56"),
        ("en", 0, "€0.00"),
    ],
)
def test_money_is_written_the_way_the_language_does(app, locale, cents, expected):
    from cooperative.money import format_euros

    with app.test_request_context(f"/?lang={locale}"):
        assert format_euros(cents) == expected


def test_times_are_shown_in_amsterdam_time(app):
    from datetime import UTC, datetime

    from flask import render_template_string

    winter = datetime(2026, 2, 8, 16, 30, tzinfo=UTC)  # 17:30 in Amsterdam (CET)
    summer = datetime(2026, 7, 8, 16, 30, tzinfo=UTC)  # 18:30 in Amsterdam (CEST)
    with app.test_request_context("/?lang=nl"):
        text = render_template_string(
            "{{ w | weekday_date }} {{ w | time }} {{ s | time }}", w=winter, s=summer
        )
        assert text == "zondag 8 februari 2026 17:30 18:30"
    with app.test_request_context("/?lang=en"):
        text = render_template_string("{{ w | weekday_date }} {{ s | time }}", w=winter, s=summer)
        assert text == "Sunday 8 February 2026 18:30"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Monday 14 December 2026, 12:00 · 14 December 2026 · 12:00"),
        ("nl", "maandag 14 december 2026, 12:00 · 14 december 2026 · 12:00"),
    ],
)
def test_dates_read_the_long_way_in_both_languages(app, lang, expected):
    """Never the US short form "12/14/26, 12:00 PM": the same long form everywhere."""
    from datetime import UTC, datetime

    from flask import render_template_string

    noon = datetime(2026, 12, 14, 11, 0, tzinfo=UTC)  # 12:00 in Amsterdam
    with app.test_request_context(f"/?lang={lang}"):
        text = render_template_string(
            "{{ d | datetime }} · {{ d | date }} · {{ d | time }}", d=noon
        )
    assert text == expected


def test_an_error_answering_htmx_replaces_the_whole_page(client):
    htmx = {"HX-Request": "true", "HX-Target": "event-list"}
    missing = client.get("/events/no-such-event", headers=htmx)
    assert missing.status_code == 404
    assert missing.headers["HX-Retarget"] == "body"
    assert missing.headers["HX-Reswap"] == "innerHTML"
    refused = client.post("/events/no-such-event/register", headers=htmx)
    assert refused.status_code == 400 and refused.headers["HX-Retarget"] == "body"
    page = client.get("/events", headers=htmx)
    assert page.status_code == 200 and "HX-Retarget" not in page.headers


@pytest.mark.parametrize(("proxies", "seen"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_forwarded_addresses_are_believed_only_behind_a_configured_proxy(
    monkeypatch, database_url, proxies, seen
):
    monkeypatch.setenv("PROXY_COUNT", str(proxies))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/_address")
    def address():
        return request.remote_addr

    client = app.test_client()
    response = client.get("/_address", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.get_data(as_text=True) == seen


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_menu_folds_away_and_names_each_link_differently(app, client, auth, lang):
    """An admin who also organises sees every link of the menu, each with its own name,
    inside a <details> disclosure that a phone opens without JavaScript."""
    from tests.factories import make_collective, make_organiser

    with app.app_context():
        make_organiser(make_collective(), email="anna@example.org", is_admin=True)
    auth.login("anna@example.org", "correct horse battery")
    page = client.get(f"/?lang={lang}").get_data(as_text=True)

    nav = page[page.index("<nav") : page.index("</nav>")]
    assert "<details" in nav and re.search(r"<summary[^>]*>Menu</summary>", nav)
    links = dict(
        (href, name.strip())
        for href, name in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    )
    assert "/manage/events" in links and "/admin/" in links
    names = list(links.values()) + ["Uitloggen" if lang == "nl" else "Log out"]
    assert len(names) == len(set(names)), names
    if lang == "nl":
        assert links["/manage/events"] == "Evenementen beheren"
        assert links["/admin/"] == "Administratie"


def test_a_member_is_not_asked_to_join_and_the_page_asks_once_whether_they_are(
    app, client, auth, count_queries
):
    from cooperative.models import Membership
    from tests.factories import make_member

    def invitations(page: str) -> int:
        return page.count('href="/join"')

    assert invitations(client.get("/?lang=en").get_data(as_text=True)) == 3  # menu, page, footer
    with app.app_context():
        make_member("member@example.org")
    auth.login("member@example.org")
    with count_queries as counted:
        page = client.get("/?lang=en").get_data(as_text=True)
    assert invitations(page) == 0 and 'href="/members/"' in page
    assert sum("FROM memberships" in statement for statement in counted.statements) == 1

    with app.app_context():  # an applicant, or a member who left, is still invited
        db.session.execute(sa.update(Membership).values(status=MembershipStatus.LAPSED))
        db.session.commit()
    assert invitations(client.get("/?lang=en").get_data(as_text=True)) == 3
