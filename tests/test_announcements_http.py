"""Announcements over HTTP: who may open the pages, the form, its preview with the count,
sending, the record, refusals with the typing kept; the mail as the SMTP server gets it."""

import re

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Announcement, OutboxMessage
from cooperative.services import mail
from tests.announcement_fixtures import build_news_world
from tests.conftest import AuthActions, csrf_token
from tests.test_permissions_matrix import act_as

NEW = "/manage/announcements/new"


@pytest.fixture
def world(app):
    return build_news_world(app)


def as_user(app, user_id):
    client = app.test_client()
    act_as(client, user_id)
    return client


def post(client, data):
    return client.post(NEW, data={"csrf_token": csrf_token(client, NEW), **data})


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(
    ("who", "status"),
    [("member", 403), ("organiser_a", 200), ("organiser_b", 200), ("admin", 200)],
)
def test_who_may_open_the_announcements(app, world, who, status):
    ids = {"member": world.reader, "organiser_a": world.organiser_a}
    ids |= {"organiser_b": world.organiser_b, "admin": world.admin}
    client = as_user(app, ids[who])
    assert client.get("/manage/announcements/").status_code == status
    assert client.get(NEW).status_code == status
    assert app.test_client().get(NEW).status_code == 302  # to the log-in


def test_an_organiser_is_offered_only_their_collective_and_its_events(app, world):
    page = as_user(app, world.organiser_a).get(NEW).get_data(as_text=True)
    values = re.findall(r'<option[^>]*value="([^"]+)"', page)
    assert values == [f"collective-{world.zonnedak}", f"event-{world.event}"]
    admin_page = as_user(app, world.admin).get(NEW).get_data(as_text=True)
    assert f'value="domain-{world.energy}"' in admin_page
    assert f'value="collective-{world.voedselbank}"' in admin_page


def test_preview_shows_the_count_and_the_text_and_sends_nothing(app, world):
    client = as_user(app, world.admin)
    response = post(
        client,
        {"audience": f"domain-{world.energy}", "subject": "Zon op het dak", "body": "# Kom\n\nJa"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<dd id="recipient-count">1 persoon</dd>' in page
    assert "<h2>Kom</h2>" in page
    assert "Verstuur naar 1 persoon" in page
    assert 'name="body" value="# Kom\n\nJa"' in page
    assert count(app, OutboxMessage) == 0 and count(app, Announcement) == 0
    # Back to the form with the text kept.
    again = post(
        client,
        {
            "audience": f"domain-{world.energy}",
            "subject": "Zon op het dak",
            "body": "# Kom\n\nJa",
            "action": "edit",
        },
    ).get_data(as_text=True)
    assert 'value="Zon op het dak"' in again and "# Kom\n\nJa</textarea>" in again


def test_sending_records_it_and_the_organiser_of_another_collective_may_not_read_it(app, world):
    client = as_user(app, world.organiser_a)
    response = post(
        client,
        {
            "audience": f"event-{world.event}",
            "subject": "Route",
            "body": "Via de zijdeur",
            "action": "send",
        },
    )
    assert response.status_code == 303
    record = response.headers["Location"]
    page = client.get(record).get_data(as_text=True)
    assert "2 mensen" in page and "Via de zijdeur" in page and "Buurtdiner" in page
    assert count(app, OutboxMessage) == 2
    assert as_user(app, world.admin).get(record).status_code == 200
    assert as_user(app, world.organiser_b).get(record).status_code == 403
    assert as_user(app, world.reader).get(record).status_code == 403
    assert client.get("/manage/announcements/999").status_code == 404
    listing = as_user(app, world.organiser_b).get("/manage/announcements/").get_data(as_text=True)
    assert "Route" not in listing
    assert "Route" in client.get("/manage/announcements/").get_data(as_text=True)


def test_an_organiser_cannot_send_to_another_collective_by_changing_the_form(app, world):
    client = as_user(app, world.organiser_b)
    for target in (
        f"collective-{world.zonnedak}",
        f"event-{world.event}",
        f"domain-{world.energy}",
    ):
        response = post(
            client, {"audience": target, "subject": "Hallo", "body": "Tekst", "action": "send"}
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "Kies wie de aankondiging krijgt." in page
        assert 'value="Hallo"' in page
    assert count(app, OutboxMessage) == 0 and count(app, Announcement) == 0


def test_a_made_up_audience_is_refused_with_the_typing_kept(app, world):
    client = as_user(app, world.admin)
    for made_up in ("domain-²", "domain-99999999999999999999", "collective-0"):
        response = post(
            client, {"audience": made_up, "subject": "Hallo", "body": "Tekst", "action": "send"}
        )
        assert response.status_code == 422
        assert 'value="Hallo"' in response.get_data(as_text=True)
    assert count(app, Announcement) == 0


def test_bad_input_is_refused_by_its_field_with_the_typing_kept(app, world):
    client = as_user(app, world.admin)
    response = post(
        client, {"audience": f"domain-{world.energy}", "subject": "", "body": "Mijn tekst"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vul een onderwerp in." in page and "Mijn tekst</textarea>" in page
    long = post(client, {"audience": f"domain-{world.energy}", "subject": "x" * 201, "body": "T"})
    assert long.status_code == 422
    assert "Houd het onderwerp korter dan 200 tekens." in long.get_data(as_text=True)


def test_nobody_to_send_to_says_so_and_offers_no_send_button(app, world):
    client = as_user(app, world.admin)
    with app.app_context():
        from tests.announcement_fixtures import user

        user(world.reader).profile.newsletter = False
        db.session.commit()
    preview = post(client, {"audience": f"domain-{world.energy}", "subject": "A", "body": "B"})
    page = preview.get_data(as_text=True)
    assert "Niemand zou deze aankondiging krijgen." in page and 'value="send"' not in page
    sent = post(
        client,
        {"audience": f"domain-{world.energy}", "subject": "A", "body": "B", "action": "send"},
    )
    assert sent.status_code == 422
    assert "Niemand zou deze aankondiging krijgen." in sent.get_data(as_text=True)


def test_the_list_takes_the_same_queries_for_many_announcements(app, world, count_queries):
    client = as_user(app, world.admin)

    def send_some(start, number):
        for index in range(start, start + number):
            post(
                client,
                {
                    "audience": f"collective-{world.zonnedak}",
                    "subject": f"S{index}",
                    "body": "T",
                    "action": "send",
                },
            )

    send_some(0, 2)
    client.get("/manage/announcements/")
    with count_queries as few:
        client.get("/manage/announcements/")
    send_some(2, 8)
    with count_queries as many:
        page = client.get("/manage/announcements/").get_data(as_text=True)
    assert page.count('class="card-title"') == 10
    assert many.count == few.count


def test_the_mail_has_the_one_click_headers_and_the_links(app, world, smtp_server):
    client = as_user(app, world.admin)
    post(
        client,
        {
            "audience": f"collective-{world.zonnedak}",
            "subject": "Oogstfeest",
            "body": "Kom **zaterdag**.",
            "action": "send",
        },
    )
    with app.app_context():
        assert mail.send_pending() == (1, 0)
    [message] = smtp_server.to("reader@example.org")
    assert message["Subject"] == "Oogstfeest"
    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(r"<http://localhost/news/unsubscribe/[\w.-]+>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert "Kom **zaterdag**." in text
    assert "omdat je Zonnedak volgt" in text
    assert unsubscribe.strip("<>") in text
    assert "http://localhost/account/profile" in text
    html = message.get_body(("html",)).get_content()
    assert "<strong>zaterdag</strong>" in html and unsubscribe.strip("<>") in html
    # The link in the header works with one POST, no session, no token.
    path = unsubscribe.strip("<>").removeprefix("http://localhost")
    one_click = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    with app.app_context():
        from tests.announcement_fixtures import user

        assert user(world.reader).profile.newsletter is False


def test_html_and_script_links_in_the_text_stay_text(app, world, smtp_server):
    client = as_user(app, world.organiser_a)
    body = '<script>alert(1)</script> [klik](javascript:alert(2)) <b onclick="x">b</b>'
    preview = post(
        client, {"audience": f"collective-{world.zonnedak}", "subject": "S", "body": body}
    )
    page = preview.get_data(as_text=True)
    assert "<script>alert(1)" not in page and 'href="javascript:' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    post(
        client,
        {
            "audience": f"collective-{world.zonnedak}",
            "subject": "S",
            "body": body,
            "action": "send",
        },
    )
    with app.app_context():
        mail.send_pending()
    [message] = smtp_server.to("reader@example.org")
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and 'href="javascript:' not in html
    assert "<b onclick" not in html and "&lt;b onclick=" in html


def test_a_mail_is_never_built_with_a_header_broken_by_a_line_break(app):
    with app.app_context():
        message = OutboxMessage(
            to_address="a@example.org",
            subject="S",
            body_text="T",
            attachments=[],
            headers={"List-Unsubscribe": "<http://x/>\r\nBcc: b@example.org"},
        )
        db.session.add(message)
        db.session.commit()
        assert mail.send_pending() == (0, 1)
        assert db.session.get(OutboxMessage, message.id).status == "failed"


def test_the_organiser_finds_the_announcements_from_their_events(app, world):
    page = as_user(app, world.organiser_a).get("/manage/events").get_data(as_text=True)
    assert 'href="/manage/announcements/"' in page


def test_login_then_write(app, world, client):
    AuthActions(client).login("organiser.a@example.org")
    assert client.get(NEW).status_code == 200
