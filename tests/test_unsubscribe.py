"""The one-click unsubscribe: a signed link per recipient that works without logging in
and without a CSRF token (RFC 8058); a changed, unknown or old link gets a page that says
what to do; and following collectives on the profile."""

import time

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from cooperative.extensions import db
from cooperative.models import AudienceKind, Event, OutboxMessage, Registration
from cooperative.services import announcements, unsubscribe
from cooperative.services.announcements import Audience
from tests.announcement_fixtures import build_news_world, collective, user
from tests.conftest import post_form
from tests.test_permissions_matrix import act_as


@pytest.fixture
def world(app):
    return build_news_world(app)


def reader_link(app, world) -> str:
    with app.app_context():
        return f"/news/unsubscribe/{unsubscribe.token_for_user(user(world.reader))}"


def newsletter(app, user_id) -> bool:
    with app.app_context():
        return user(user_id).profile.newsletter


def test_the_link_asks_first_and_a_get_changes_nothing(app, world, client):
    link = reader_link(app, world)
    page = client.get(link)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Je krijgt dan geen nieuws meer van MeentCoop per e-mail" in text
    assert f'action="{link}"' in text and "Stoppen</button>" in text
    assert newsletter(app, world.reader) is True


def test_one_post_stops_the_news_without_logging_in_or_a_csrf_token(app, world, client):
    link = reader_link(app, world)
    response = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Je krijgt geen nieuws meer per e-mail." in response.get_data(as_text=True)
    assert newsletter(app, world.reader) is False
    # Twice is harmless, and the news by interest no longer reaches them.
    assert client.post(link).status_code == 200
    with app.app_context():
        domain = Audience(AudienceKind.DOMAIN, collective(world.zonnedak).primary_domain)
        assert announcements.recipients(domain) == []
    assert "Ze zijn al gestopt." in client.get(link).get_data(as_text=True)


def test_a_post_from_a_mail_provider_elsewhere_is_taken(app, world, client):
    link = reader_link(app, world)
    response = client.post(
        link,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": "https://mail.example.com"},
    )
    assert response.status_code == 200
    assert newsletter(app, world.reader) is False


@pytest.mark.parametrize("method", ("get", "post"))
def test_a_changed_or_made_up_link_gets_a_friendly_404(app, world, client, method):
    link = reader_link(app, world)
    for bad in (link[:-3] + "abc", "/news/unsubscribe/nothing", link + "x"):
        response = getattr(client, method)(bad)
        page = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "Deze link om de e-mails te stoppen is niet compleet of is veranderd." in page
        assert 'href="/account/profile"' in page
    assert newsletter(app, world.reader) is True


def test_a_link_signed_with_another_key_or_for_another_use_does_not_work(app, world, client):
    with app.app_context():
        data = {"u": world.reader, "fp": unsubscribe._user_fingerprint(user(world.reader))}
        other_key = URLSafeTimedSerializer("not our key", salt="news-unsubscribe").dumps(data)
        other_use = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="account-reset").dumps(
            data
        )
    for token in (other_key, other_use):
        assert client.post(f"/news/unsubscribe/{token}").status_code == 404
    assert newsletter(app, world.reader) is True


def test_an_old_link_gets_a_friendly_410(app, world, client, monkeypatch):
    class OldSigner(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - unsubscribe.UNSUBSCRIBE_MAX_AGE - 60

    with app.app_context():
        monkeypatch.setattr(
            unsubscribe,
            "_serializer",
            lambda: URLSafeTimedSerializer(
                app.config["SECRET_KEY"], salt="news-unsubscribe", signer=OldSigner
            ),
        )
        token = unsubscribe.token_for_user(user(world.reader))
        monkeypatch.undo()
    for method in ("get", "post"):
        response = getattr(client, method)(f"/news/unsubscribe/{token}")
        assert response.status_code == 410
        assert "is te oud" in response.get_data(as_text=True)
    assert newsletter(app, world.reader) is True


def test_a_link_of_a_deleted_account_does_not_work_for_a_new_one(app, world, client):
    with app.app_context():
        reader = user(world.reader)
        token = unsubscribe.token_for_user(reader)
        reader.created_at = reader.created_at.replace(year=2020)  # as another account would
        db.session.commit()
    assert client.post(f"/news/unsubscribe/{token}").status_code == 404
    assert newsletter(app, world.reader) is True


def test_a_registrations_link_stops_only_that_events_announcements(app, world, client):
    with app.app_context():
        event = db.session.get(Event, world.event)
        announcements.send(
            user(world.organiser_a), Audience(AudienceKind.EVENT, event), "Route", "T", "nl"
        )
        db.session.commit()
        ada = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.to_address == "ada@example.org")
        )
        link = ada.headers["List-Unsubscribe"].strip("<>").removeprefix("http://localhost")
    page = client.get(link).get_data(as_text=True)
    assert "Je krijgt dan geen aankondigingen meer over Buurtdiner." in page
    response = client.post(link)
    assert response.status_code == 200
    assert 'href="/r/' in response.get_data(as_text=True)
    with app.app_context():
        ada = db.session.scalar(
            sa.select(Registration).where(Registration.contact_email == "ada@example.org")
        )
        assert ada.announcements_off is True
        left = announcements.recipients(
            Audience(AudienceKind.EVENT, db.session.get(Event, world.event))
        )
        assert [person.email for person in left] == ["bob@example.org"]


def test_a_member_follows_collectives_on_the_profile(app, world):
    client = app.test_client()
    act_as(client, world.quiet)
    with app.app_context():
        hidden = collective(world.voedselbank)
        hidden.is_published = False
        db.session.commit()
    page = client.get("/account/profile").get_data(as_text=True)
    assert "Collectieven die ik volg" in page
    assert f'value="{world.zonnedak}"' in page and f'value="{world.voedselbank}"' not in page

    def followed():
        with app.app_context():
            return [c.id for c in user(world.quiet).profile.followed_collectives]

    assert post_form(client, "/account/profile/collectives", {}).status_code == 303
    assert followed() == []
    # An unpublished collective is no choice: refused by the field, nothing changed.
    refused = post_form(
        client, "/account/profile/collectives", {"collectives": [str(world.voedselbank)]}
    )
    assert refused.status_code == 422
    assert followed() == []
    chosen = post_form(
        client, "/account/profile/collectives", {"collectives": [str(world.zonnedak)]}
    )
    assert chosen.status_code == 303
    assert followed() == [world.zonnedak]
    assert "Collectieven die ik volg" in client.get("/account/").get_data(as_text=True)
