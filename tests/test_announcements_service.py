"""Announcements as a service: who gets one (consent first), who may send to whom, the
outbox rows with their unsubscribe headers, the measured rate, and the 90-day purge."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from cooperative.extensions import db
from cooperative.models import (
    Announcement,
    AnnouncementRecipient,
    AudienceKind,
    Domain,
    Event,
    OutboxMessage,
    OutboxStatus,
    Registration,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.services import announcements, mail, retention
from cooperative.services.announcements import Audience
from cooperative.services.registration import cancel
from tests.announcement_fixtures import build_news_world, collective, make_reader, user
from tests.conftest import second_click
from tests.factories import make_registration


@pytest.fixture
def world(app):
    return build_news_world(app)


def audience(kind: str, target_id: int) -> Audience:
    model = {"domain": Domain, "event": Event}.get(kind)
    target = db.session.get(model, target_id) if model else collective(target_id)
    return Audience(AudienceKind(kind), target)


def addresses(found) -> list[str]:
    return sorted(person.email for person in found)


def test_news_by_interest_reaches_only_those_who_said_yes_with_a_confirmed_address(app, world):
    with app.app_context():
        assert addresses(announcements.recipients(audience("domain", world.energy))) == [
            "reader@example.org"
        ]
        assert addresses(announcements.recipients(audience("collective", world.zonnedak))) == [
            "reader@example.org"
        ]
        assert addresses(announcements.recipients(audience("collective", world.voedselbank))) == [
            "follower.b@example.org"
        ]


def test_an_event_reaches_its_parties_with_a_place_who_did_not_stop_it(app, world):
    with app.app_context():
        event = db.session.get(Event, world.event)
        gone = make_registration(event, ["Cas"], email="cas@example.org")
        cancel(gone)
        stopped = make_registration(event, ["Dirk"], email="dirk@example.org")
        stopped.announcements_off = True
        db.session.commit()
        found = announcements.recipients(audience("event", world.event))
        assert addresses(found) == ["ada@example.org", "bob@example.org"]
        assert {person.locale for person in found} == {"nl", "en"}


def test_who_may_send_to_whom(app, world):
    with app.app_context():
        admin, organiser_a, organiser_b = (
            user(world.admin),
            user(world.organiser_a),
            user(world.organiser_b),
        )
        energy, a, event = (
            audience("domain", world.energy),
            audience("collective", world.zonnedak),
            audience("event", world.event),
        )
        assert all(announcements.may_send(admin, x) for x in (energy, a, event))
        assert announcements.may_send(organiser_a, a) and announcements.may_send(organiser_a, event)
        assert not announcements.may_send(organiser_a, energy)
        assert not any(announcements.may_send(organiser_b, x) for x in (energy, a, event))
        assert not announcements.may_send(user(world.reader), a)
        offered = [x.value for x in announcements.audiences_for(organiser_a)]
        assert offered == [f"collective-{world.zonnedak}", f"event-{world.event}"]
        assert len(announcements.audiences_for(admin)) == 4  # the area, both collectives, the event
        with pytest.raises(Refused) as refused:
            announcements.send(organiser_b, a, "Hallo", "Tekst", "nl")
        assert refused.value.field == "audience"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 0


def test_a_past_or_unknown_audience_is_not_found(app, world):
    with app.app_context():
        db.session.get(Event, world.event).starts_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        assert announcements.find_audience(f"event-{world.event}") is None
        assert announcements.find_audience("collective-999") is None
        assert announcements.find_audience("planet-1") is None
        assert announcements.find_audience("domain-x") is None
        # Digits to str.isdigit() but not to int(), and ids no column holds: not found.
        for made_up in ("domain-²", "domain-٣", "domain-99999999999999999999", "domain-0"):
            assert announcements.find_audience(made_up) is None
        assert announcements.find_audience(f"domain-{world.energy}").target.id == world.energy


def test_sending_queues_one_mail_each_with_its_own_unsubscribe_headers(app, world):
    with app.app_context():
        sent = announcements.send(
            user(world.admin), audience("domain", world.energy), "Zonnepanelen", "**Kom!**", "nl"
        )
        db.session.commit()
        assert sent.recipient_count == 1 and sent.audience_name == "Energie"
        [message] = db.session.scalars(sa.select(OutboxMessage)).all()
        assert message.to_address == "reader@example.org"
        assert message.subject == "Zonnepanelen"
        assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.headers["List-Unsubscribe"].startswith("<http://localhost/news/unsubscribe/")
        assert "<strong>Kom!</strong>" in message.body_html
        [recipient] = db.session.scalars(sa.select(AnnouncementRecipient)).all()
        assert (recipient.user_id, recipient.outbox_message_id) == (world.reader, message.id)


def test_an_event_announcement_points_at_each_registration(app, world):
    with app.app_context():
        announcements.send(
            user(world.organiser_a), audience("event", world.event), "Route", "Via de zijdeur", "nl"
        )
        db.session.commit()
        messages = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        news = [m for m in messages if m.subject == "Route"]
        assert [m.registration.contact_email for m in news] == [
            "ada@example.org",
            "bob@example.org",
        ]
        assert "You get this because you registered for Buurtdiner." in news[1].body_text
        assert "/r/" in news[0].body_text  # the registration's own page, not an account's


@pytest.mark.parametrize(
    ("subject", "body", "field"),
    [("  ", "Tekst", "subject"), ("Hallo", " ", "body"), ("x" * 201, "Tekst", "subject")],
)
def test_an_empty_or_too_long_announcement_is_refused(app, world, subject, body, field):
    with app.app_context():
        with pytest.raises(Refused) as refused:
            announcements.send(
                user(world.admin), audience("domain", world.energy), subject, body, "nl"
            )
        assert refused.value.field == field


def test_nobody_to_send_to_and_a_double_click_are_refused(app, world):
    with app.app_context():
        user(world.reader).profile.newsletter = False
        db.session.commit()
        with pytest.raises(Refused) as nobody:
            announcements.send(user(world.admin), audience("domain", world.energy), "A", "B", "nl")
        with force_locale("en"):
            assert str(nobody.value) == "Nobody would get this announcement."
        admin, voedselbank = user(world.admin), audience("collective", world.voedselbank)
        announcements.send(admin, voedselbank, "Oogst", "Tekst", "nl")
        db.session.commit()
        with pytest.raises(Refused) as again:
            announcements.send(admin, voedselbank, "Oogst", "Tekst", "nl")
        with force_locale("en"):
            assert "a few minutes ago" in str(again.value)
        later = utcnow() + timedelta(minutes=11)
        announcements.send(admin, voedselbank, "Oogst", "Tekst", "nl", now=later)


def test_a_big_announcement_leaves_at_the_measured_rate(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "NEWS_PER_MINUTE", 2)
    with app.app_context():
        zonnedak = collective(world.zonnedak)
        for number in range(4):
            make_reader(f"fan{number}@example.org", news=True, follows=[zonnedak])
        db.session.execute(sa.delete(OutboxMessage))  # their welcome
        now = utcnow()
        sent = announcements.send(
            user(world.organiser_a),
            audience("collective", world.zonnedak),
            "Nieuws",
            "T",
            "nl",
            now=now,
        )
        db.session.commit()
        assert sent.recipient_count == 5
        held = [
            (m.next_attempt_at - now)
            for m in db.session.scalars(
                sa.select(OutboxMessage)
                .where(OutboxMessage.subject == "Nieuws")
                .order_by(OutboxMessage.id)
            )
        ]
        assert held == [timedelta(minutes=m) for m in (0, 0, 1, 1, 2)]
        assert sent.last_mail_at - now == timedelta(minutes=2)
        # The worker's outbox run sends what is due now: two, the others later.
        assert mail.send_pending() == (2, 0)
        pending = db.session.scalar(
            sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
        )
        assert pending == 3
        assert announcements.delivery(sent) == {"sent": 2, "pending": 3}


def test_the_purge_forgets_who_after_90_days_and_keeps_how_many(app, world):
    with app.app_context():
        admin = user(world.admin)
        now = utcnow()
        old = announcements.send(
            admin, audience("domain", world.energy), "Oud", "T", "nl", now=now - timedelta(days=91)
        )
        recent = announcements.send(
            admin,
            audience("domain", world.energy),
            "Nieuw",
            "T",
            "nl",
            now=now - timedelta(days=89),
        )
        db.session.commit()
        assert retention.purge_announcement_recipients(now=now) == 1
        db.session.commit()
        kept = db.session.scalars(sa.select(AnnouncementRecipient.announcement_id)).all()
        assert kept == [recent.id]
        db.session.expire_all()
        assert db.session.get(Announcement, old.id).recipient_count == 1
        assert db.session.get(Announcement, old.id).body == "T"


def test_purging_old_mail_unlinks_it_from_its_recipient(app, world):
    with app.app_context():
        announcements.send(user(world.admin), audience("domain", world.energy), "A", "B", "nl")
        db.session.commit()
        mail.send_pending()
        assert retention.purge_mail(now=utcnow() + timedelta(days=31)) == 1
        db.session.commit()
        [recipient] = db.session.scalars(sa.select(AnnouncementRecipient)).all()
        assert recipient.outbox_message_id is None


def test_forgetting_a_guest_or_an_account_forgets_them_as_recipients(app, world):
    from cooperative.services import privacy

    with app.app_context():
        announcements.send(
            user(world.organiser_a), audience("event", world.event), "Route", "T", "nl"
        )
        announcements.send(user(world.admin), audience("domain", world.energy), "A", "B", "nl")
        db.session.commit()
        ada = db.session.scalar(
            sa.select(Registration).where(Registration.contact_email == "ada@example.org")
        )
        privacy.anonymise_registration(ada)
        privacy.delete_account(user(world.reader), "correct horse battery")
        db.session.commit()
        left = db.session.scalars(sa.select(AnnouncementRecipient)).all()
        assert [(r.user_id, r.registration_id is not None) for r in left] == [(None, True)]
        assert {a.recipient_count for a in db.session.scalars(sa.select(Announcement))} == {1, 2}


def test_a_double_click_at_the_same_moment_sends_once(app, world):
    """The second send waits for the first one's commit (the author's row is locked),
    then finds it and is refused."""

    def send():
        announcements.send(
            user(world.admin), audience("collective", world.voedselbank), "Oogst", "T", "nl"
        )

    with app.app_context():
        send()
        again = second_click(app, send)
        db.session.commit()
    assert "a few minutes ago" in again()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 1


def unsent_to(address: str) -> list[str]:
    return db.session.scalars(
        sa.select(OutboxMessage.subject)
        .where(OutboxMessage.to_address == address, OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.id)
    ).all()


def send_slowly(world) -> None:
    """The reader's news (two announcements), and one to the event's parties: with
    NEWS_PER_MINUTE at 1, most of their mails wait."""
    make_reader("fan@example.org", news=True, follows=[collective(world.zonnedak)])
    db.session.execute(sa.delete(OutboxMessage))  # welcomes and confirmations
    announcements.send(user(world.admin), audience("domain", world.energy), "Oogst", "T", "nl")
    announcements.send(user(world.admin), audience("collective", world.zonnedak), "Dak", "T", "nl")
    announcements.send(user(world.organiser_a), audience("event", world.event), "Route", "T", "nl")
    db.session.commit()
    assert unsent_to("reader@example.org") == ["Oogst", "Dak"]
    assert unsent_to("ada@example.org") == ["Route"]


def ada_registration() -> Registration:
    return db.session.scalar(
        sa.select(Registration).where(Registration.contact_email == "ada@example.org")
    )


def test_unsubscribing_drops_the_mails_still_waiting(app, world, monkeypatch):
    from cooperative.services import unsubscribe

    monkeypatch.setitem(app.config, "NEWS_PER_MINUTE", 1)
    with app.app_context():
        send_slowly(world)

        unsubscribe.unsubscribe(unsubscribe.token_for_registration(ada_registration()))
        db.session.commit()
        assert unsent_to("ada@example.org") == []
        assert unsent_to("bob@example.org") == ["Route"]

        # The worker has claimed the reader's first mail (being sent): left to it.
        claimed = db.session.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.to_address == "reader@example.org", OutboxMessage.subject == "Oogst"
            )
        )
        claimed.attempts = 1
        db.session.commit()
        unsubscribe.unsubscribe(unsubscribe.token_for_user(user(world.reader)))
        db.session.commit()
        assert unsent_to("reader@example.org") == ["Oogst"]
        assert unsent_to("fan@example.org") == ["Dak"]
        # A dropped mail's link goes with it (SQLite would give its id to a later mail).
        links = db.session.scalars(
            sa.select(AnnouncementRecipient.outbox_message_id).where(
                AnnouncementRecipient.user_id == world.reader
            )
        ).all()
        assert sorted(links, key=lambda link: link or 0) == [None, claimed.id]


def test_a_deleted_account_or_forgotten_guest_gets_no_waiting_announcement(app, world, monkeypatch):
    """Their announcements still waiting are dropped; another mail on its way to them
    (here: a reminder queued for Ada) still goes."""
    from cooperative.services import privacy

    monkeypatch.setitem(app.config, "NEWS_PER_MINUTE", 1)
    with app.app_context():
        send_slowly(world)
        ada = ada_registration()
        db.session.add(
            OutboxMessage(
                to_address=ada.contact_email,
                subject="Tot morgen",
                body_text="T",
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=utcnow(),
                registration=ada,
            )
        )
        privacy.anonymise_registration(ada)
        privacy.delete_account(user(world.reader), "correct horse battery")
        db.session.commit()
        assert unsent_to("ada@example.org") == ["Tot morgen"]
        assert unsent_to("reader@example.org") == []
        assert unsent_to("fan@example.org") == ["Dak"]
