"""`flask coop ...` commands, the migrations, and the outbox worker."""

import smtplib
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cooperative.extensions import db
from cooperative.models import (
    Collective,
    CollectiveRole,
    Domain,
    Event,
    MealOption,
    MembershipPlan,
    OutboxMessage,
    User,
)
from cooperative.services import mail
from tests.conftest import free_port
from tests.factories import make_user


def counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Domain, Collective, CollectiveRole, MembershipPlan, User, Event, MealOption)
    }


def test_seed_demo_is_idempotent(app, runner):
    first = runner.invoke(args=["coop", "seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@meentcoop.example" in first.output
    with app.app_context():
        after_first = counts()
        launch = db.session.scalar(
            sa.select(Event).where(Event.slug == "lancering-samenwerking-collectieven")
        )
        assert launch.capacity == 80
        [dinner] = launch.meal_options
        assert dinner.capacity == 60
        assert dinner.pwyc_min_cents is not None
        assert set(dinner.diets) == {"vegetarian", "vegan", "halal"}

    second = runner.invoke(args=["coop", "seed-demo"])
    assert second.exit_code == 0, second.output
    assert "already there" in second.output
    with app.app_context():
        assert counts() == after_first
    assert after_first["Domain"] == 10
    assert after_first["Collective"] >= 10
    assert after_first["User"] == 2


def test_seed_demo_accounts_can_log_in(app, runner, auth, client):
    runner.invoke(args=["coop", "seed-demo"])
    response = auth.login("organiser@meentcoop.example", "demo-organiser-2026")
    assert response.status_code == 303


def test_seed_demo_refuses_in_production(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "COOP_ENV", "production")
    result = runner.invoke(args=["coop", "seed-demo"])
    assert result.exit_code != 0
    with app.app_context():
        assert counts()["User"] == 0


def test_create_admin(app, runner, auth):
    result = runner.invoke(
        args=["coop", "create-admin", "Staff@Example.org", "--name", "Sam"],
        input="a strong password\na strong password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert (user.email, user.name, user.is_admin) == ("staff@example.org", "Sam", True)
    assert auth.login("staff@example.org", "a strong password").status_code == 303


def test_the_migrations_match_the_models(app, runner):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, db.metadata) == []
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def queue(app, to="resident@example.org") -> int:
    with app.app_context(), app.test_request_context():
        message = mail.queue_mail(
            to,
            "Test",
            "reset_password",
            "en",
            user=make_user(email=to),
            reset_url="http://localhost/x",
        )
        db.session.commit()
        return message.id


def test_send_mail_retries_when_the_server_is_down_then_delivers(app, runner, smtp_server):
    message_id = queue(app)
    smtp_server_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nothing listens there

    result = runner.invoke(args=["coop", "send-mail"])
    assert "Sent 0, failed 1." in result.output
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert (message.status, message.attempts) == ("pending", 1)
        assert "ConnectionRefusedError" in message.last_error
        # Not due again yet: a second run leaves it alone.
        assert mail.send_pending() == (0, 0)
        message.next_attempt_at = message.created_at
        db.session.commit()

    app.config["MAIL_PORT"] = smtp_server_port
    result = runner.invoke(args=["coop", "send-mail"])
    assert "Sent 1, failed 0." in result.output
    assert len(smtp_server.to("resident@example.org")) == 1
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert (message.status, message.attempts) == ("sent", 2)
        assert message.sent_at is not None


def test_send_mail_gives_up_after_the_last_attempt(app, monkeypatch):
    message_id = queue(app)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    with app.app_context():
        for _ in range(mail.MAX_ATTEMPTS):
            db.session.execute(
                sa.update(OutboxMessage).values(next_attempt_at=OutboxMessage.created_at)
            )
            db.session.commit()
            mail.send_pending()
        message = db.session.get(OutboxMessage, message_id)
        assert (message.status, message.attempts) == ("failed", mail.MAX_ATTEMPTS)


def test_a_refused_recipient_is_recorded_not_lost(app, smtp_server, monkeypatch):
    message_id = queue(app)

    def refuse(self, email):
        raise smtplib.SMTPRecipientsRefused({email["To"]: (550, b"no such user")})

    monkeypatch.setattr(mail.SmtpTransport, "send", refuse)
    with app.app_context():
        assert mail.send_pending() == (0, 1)
        assert "SMTPRecipientsRefused" in db.session.get(OutboxMessage, message_id).last_error


def test_without_a_mail_server_mail_is_written_to_the_instance_folder(app, runner):
    folder = Path(app.instance_path) / "mail"
    before = set(folder.glob("*.eml"))  # the app is shared: other tests wrote there too
    queue(app)
    result = runner.invoke(args=["coop", "send-mail"])
    assert "Sent 1, failed 0." in result.output
    [eml] = set(folder.glob("*.eml")) - before
    assert "To: resident@example.org" in eml.read_text()
    eml.unlink()


def test_no_mail_is_queued_for_an_empty_address(app):
    with app.app_context(), app.test_request_context():
        assert mail.queue_mail("", "Test", "reset_password", "en", user=None) is None
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_a_line_break_in_a_subject_neither_adds_headers_nor_blocks_the_outbox(
    app, runner, smtp_server
):
    with app.app_context(), app.test_request_context():
        mail.queue_mail(
            "a@example.org",
            "Zon\r\nBcc: x@example.org",
            "reset_password",
            "en",
            user=None,
            reset_url="http://localhost/x",
        )
        broken = mail.queue_mail(
            "b@example.org", "Fine", "reset_password", "en", user=None, reset_url="x"
        )
        broken.to_address = "b@example.org\r\nBcc: x@example.org"
        mail.queue_mail("c@example.org", "Later", "reset_password", "en", user=None, reset_url="x")
        db.session.commit()

    result = runner.invoke(args=["coop", "send-mail"])

    assert "Sent 2, failed 1." in result.output
    [first] = smtp_server.to("a@example.org")
    assert first["Subject"] == "Zon Bcc: x@example.org" and first["Bcc"] is None
    assert len(smtp_server.to("c@example.org")) == 1
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(OutboxMessage.status).order_by(OutboxMessage.id)
        ).all()
        assert statuses == ["sent", "failed", "sent"]


def test_the_demo_organiser_runs_the_door_of_the_launch_evening(app, runner, auth, client):
    runner.invoke(args=["coop", "seed-demo"])
    with app.app_context():
        launch = db.session.scalar(
            sa.select(Event).where(Event.slug == "lancering-samenwerking-collectieven")
        )
        assert launch.collective is not None and launch.collective.is_published
        launch_id = launch.id
    auth.login("organiser@meentcoop.example", "demo-organiser-2026")
    attendance = client.get(f"/manage/events/{launch_id}/attendees")
    assert attendance.status_code == 200
    assert "Lancering" in attendance.get_data(as_text=True)
    assert client.get("/manage/events").status_code == 200
    assert "Lancering" in client.get("/manage/events").get_data(as_text=True)


def test_seed_demo_gives_older_demo_data_its_host(app, runner):
    """A database seeded before the launch evening had a host gets one, once."""
    runner.invoke(args=["coop", "seed-demo"])
    with app.app_context():
        launch = db.session.scalar(
            sa.select(Event).where(Event.slug == "lancering-samenwerking-collectieven")
        )
        launch.collective = None
        organiser = db.session.scalar(
            sa.select(User).where(User.email == "organiser@meentcoop.example")
        )
        organiser.collective_roles = [
            r for r in organiser.collective_roles if r.collective.slug != "meentcoop"
        ]
        db.session.commit()
    runner.invoke(args=["coop", "seed-demo"])
    runner.invoke(args=["coop", "seed-demo"])
    with app.app_context():
        launch = db.session.scalar(
            sa.select(Event).where(Event.slug == "lancering-samenwerking-collectieven")
        )
        assert launch.collective.slug == "meentcoop"
        organiser = db.session.scalar(
            sa.select(User).where(User.email == "organiser@meentcoop.example")
        )
        slugs = sorted(r.collective.slug for r in organiser.collective_roles)
        assert slugs == ["meentcoop", "voedselcollectief-noord", "zonnedak-oost"]


def test_seed_demo_fills_the_member_register_shares_and_dues(app, runner, auth, client):
    from cooperative.models import Collection, Membership, SepaMandate, Share

    runner.invoke(args=["coop", "seed-demo"])
    with app.app_context():
        entries = db.session.scalars(sa.select(Membership).order_by(Membership.number)).all()
        assert [e.number for e in entries] == [1, 2, 3]
        assert all(e.street and e.postcode and e.city for e in entries)
        assert [e.is_legal_person for e in entries] == [False, False, True]
        assert entries[2].user_id is None and entries[2].kvk_number == "12345678"
        [mandate] = db.session.scalars(sa.select(SepaMandate)).all()
        assert mandate.membership.user.email == "admin@meentcoop.example"
        assert db.session.scalar(sa.select(Collection.status)) == "scheduled"
        numbers = list(db.session.scalars(sa.select(Share.number).order_by(Share.number)))
        assert numbers == [1, 2, 3, 4]
    second = runner.invoke(args=["coop", "seed-demo"])
    assert second.exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 3
        assert db.session.scalar(sa.select(sa.func.count(Share.id))) == 4
    auth.login("admin@meentcoop.example", "demo-admin-2026")
    register_page = client.get("/admin/register?lang=en").get_data(as_text=True)
    assert "Javastraat 12-2" in register_page and "Zonnedak Oost" in register_page
    dues_page = client.get("/admin/dues?lang=en")
    assert dues_page.status_code == 200
    shares_page = client.get("/admin/shares?lang=en").get_data(as_text=True)
    assert "Zonnedak Oost" in shares_page and "Anna Admin" in shares_page
