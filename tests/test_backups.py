"""Backups and restores: `coop backup` for SQLite, `pg_dump`/`pg_restore` for PostgreSQL,
as the README's "Backups" section describes them."""

import secrets
import shutil
import subprocess

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from cooperative import create_app
from cooperative.extensions import db
from cooperative.models import Attendee, Registration
from tests.factories import make_event, make_registration


def sqlite_app(path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "backup-test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    return app


def parties(app) -> list[tuple[str, str, list[str]]]:
    """Who registered, as the organiser's list would show it."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()
        return [(r.contact_email, str(r.status), sorted(a.name for a in r.attendees)) for r in rows]


def test_a_sqlite_backup_taken_while_the_site_runs_restores_everything(tmp_path):
    live = sqlite_app(tmp_path / "live.sqlite")
    with live.app_context():
        upgrade()
        event = make_event(capacity=2)
        make_registration(event, ["Ada", "Bob"], email="ada@example.org")
        make_registration(event, ["Cas"], email="cas@example.org", join_waitlist=True)
        # The site is busy: a connection of the running site is open during the backup.
        db.session.scalar(sa.select(sa.func.count(Attendee.id)))
    before = parties(live)

    result = live.test_cli_runner().invoke(args=["coop", "backup", str(tmp_path / "copy.sqlite")])
    assert result.exit_code == 0, result.output
    assert "Backed up the database to" in result.output

    again = live.test_cli_runner().invoke(args=["coop", "backup", str(tmp_path / "copy.sqlite")])
    assert again.exit_code != 0 and "exists already" in again.output

    # Restore: the copy becomes the database of a fresh site.
    (tmp_path / "live.sqlite").unlink()
    shutil.copy(tmp_path / "copy.sqlite", tmp_path / "restored.sqlite")
    restored = sqlite_app(tmp_path / "restored.sqlite")
    with restored.app_context():
        upgrade()  # already up to date: nothing to do
    assert (
        parties(restored)
        == before
        == [
            ("ada@example.org", "confirmed", ["Ada", "Bob"]),
            ("cas@example.org", "waitlisted", ["Cas"]),
        ]
    )
    page = restored.test_client().get("/events/buurtdiner?lang=en").get_data(as_text=True)
    assert "Buurtdiner" in page
    for app in (live, restored):
        with app.app_context():
            db.engine.dispose()


def test_the_suites_database_backs_up_and_restores(app, database_url, tmp_path):
    """On SQLite with `coop backup`; on PostgreSQL `coop backup` points at pg_dump, and a
    dump restored into a new database with pg_restore holds the same registrations."""
    with app.app_context():
        event = make_event(capacity=5)
        make_registration(event, ["Ada", "Bob"], email="ada@example.org")
    before = parties(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["coop", "backup", str(tmp_path / "copy.sqlite")])
    url = make_url(database_url)

    if url.get_backend_name() == "sqlite":
        assert result.exit_code == 0, result.output
        restored = sqlite_app(tmp_path / "copy.sqlite")
        assert parties(restored) == before
        with restored.app_context():
            db.engine.dispose()
        return

    assert result.exit_code != 0 and "pg_dump" in result.output
    assert not (tmp_path / "copy.sqlite").exists()
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = tmp_path / "coop.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", libpq],
        check=True,
        timeout=60,
        capture_output=True,
    )
    name = f"coop_restored_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        restored_url = url.set(database=name)
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                f"--dbname={restored_url.set(drivername='postgresql').render_as_string(False)}",
                str(dump),
            ],
            check=True,
            timeout=60,
            capture_output=True,
        )
        restored = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "backup-test",
                "SQLALCHEMY_DATABASE_URI": restored_url.render_as_string(hide_password=False),
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        assert parties(restored) == before == [("ada@example.org", "confirmed", ["Ada", "Bob"])]
        with restored.app_context():
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
