"""`flask --app cooperative coop ...`: commands for operators and cron."""

import sqlite3
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from .extensions import db
from .models import User, normalise_email, utcnow
from .services import demo, mail, registration, stripe_calls

coop = AppGroup("coop", help="Cooperative commands: demo data, mail, accounts.")


@coop.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo data (development only). Running it twice adds nothing."""
    if current_app.config["COOP_ENV"] == "production":
        raise click.ClickException("seed-demo makes accounts with known passwords: not here.")
    added = demo.seed_demo()
    db.session.commit()
    summary = ", ".join(f"{count} {kind}" for kind, count in added.items() if count)
    click.echo(f"Demo data: {'added ' + summary if summary else 'already there'}.")
    click.echo("Demo log-ins (development only):")
    for email, _name, password, admin, _organises in demo.DEMO_ACCOUNTS:
        role = "admin" if admin else "organiser"
        click.echo(f"  {role:<10} {email}  password: {password}")


@coop.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running, checking the outbox again and again.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between checks.")
def send_mail_command(loop: bool, interval: float) -> None:
    """Deliver the e-mails waiting in the outbox."""
    _send_waiting(mail.send_pending, "Sent {sent}, failed {failed}.", loop, interval)


@coop.command("send-stripe")
@click.option("--loop", is_flag=True, help="Keep running, checking again and again.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between checks.")
def send_stripe_command(loop: bool, interval: float) -> None:
    """Make the refunds and Checkout closings at Stripe that are due: those Stripe did not
    take right after the commit that decided them (run it from cron every few minutes)."""
    _send_waiting(
        stripe_calls.send_due, "Stripe calls: sent {sent}, failed {failed}.", loop, interval
    )


def _send_waiting(send, report: str, loop: bool, interval: float) -> None:
    """Send what waits with `send` (it answers sent, failed) and say so with `report`;
    with `loop`, again every `interval` seconds, quiet when there was nothing to send."""
    while True:
        sent, failed = send()
        if sent or failed or not loop:
            click.echo(report.format(sent=sent, failed=failed))
        if not loop:
            return
        time.sleep(interval)


@coop.command("expire-holds")
def expire_holds_command() -> None:
    """Release unpaid holds whose time is up (run it from cron every few minutes)."""
    released = registration.expire_holds()
    db.session.commit()
    click.echo(f"Released {released} expired holds.")


@coop.command("send-reminders")
def send_reminders_command() -> None:
    """Send the reminders before events and the kitchen summaries whose time has come
    (the worker does this every few minutes; running it again sends nothing twice)."""
    from .services import reminders, volunteer_mail

    reminded = reminders.send_event_reminders()
    volunteers = volunteer_mail.volunteer_reminders()
    summaries = reminders.send_kitchen_summaries()
    click.echo(
        f"Reminded {reminded} registrations and {volunteers} volunteers, "
        f"sent {summaries} kitchen summaries."
    )


@coop.command("membership-reminders")
def membership_reminders_command() -> None:
    """Remind yearly members whose membership ends soon; lapse those past their grace
    period (run it from cron once a day)."""
    from .services import membership

    reminded, lapsed = membership.send_reminders_and_lapse()
    db.session.commit()
    click.echo(f"Reminded {reminded} members, {lapsed} memberships lapsed.")


@coop.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Days after the event for guests (default: GUEST_DATA_DAYS, or 90).",
)
def purge_command(days: int | None) -> None:
    """Remove personal data that is no longer needed (daily): guests' names, addresses and
    e-mails some days after their event (also those of guests who helped with a task),
    sent e-mails after OUTBOX_KEEP_DAYS, and former members' profiles
    FORMER_MEMBER_DATA_DAYS after they left (the member register stays
    REGISTER_KEEP_YEARS after they left, then goes), and ended SEPA mandates with their
    collections MANDATE_KEEP_YEARS after they ended and were last debited; who got an
    announcement NEWS_RECIPIENTS_DAYS after it was sent."""
    from .services import retention

    guests = retention.purge_guests(days)
    slots = retention.purge_guest_slots(days)
    mails = retention.purge_mail()
    former = retention.purge_former_members()
    register = retention.purge_register()
    mandates = retention.purge_mandates()
    news = retention.purge_announcement_recipients()
    db.session.commit()
    click.echo(f"Removed the personal data of {guests} guest registrations.")
    click.echo(f"Removed the names and addresses of {slots} guest volunteers' slots.")
    click.echo(
        f"Forgot {news} recipients of announcements sent more than "
        f"{retention.news_recipients_days()} days ago (how many stays)."
    )
    click.echo(
        f"Removed the profiles of {former} former members who left more than "
        f"{retention.former_member_data_days()} days ago."
    )
    click.echo(
        f"Removed {register} member register entries of people who left more than "
        f"{retention.register_keep_years()} years ago."
    )
    click.echo(
        f"Removed {mandates} direct debit mandates that ended more than "
        f"{retention.mandate_keep_years()} years ago, with their collections."
    )
    click.echo(
        f"Removed {mails} e-mails sent or given up on more than "
        f"{retention.outbox_keep_days()} days ago."
    )


@coop.command("import-members")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file: list what would be refused.")
def import_members_command(path: Path, dry_run: bool) -> None:
    """Import the member register from the CSV file PATH (columns: see the README).

    Every row is checked first; when one is refused nothing is imported, and each refused
    row is listed with its line and why (exit code 1)."""
    from .refusals import Refused
    from .services import register_import

    try:
        with force_locale("en"):  # as every other line this command prints
            report = register_import.import_members(path.read_bytes(), dry_run=dry_run)
    except Refused as refusal:
        db.session.rollback()
        with force_locale("en"):
            raise click.ClickException(str(refusal.message)) from None
    for line, message in report.refusals:
        click.echo(f"line {line}: {message}")
    if not report.ok:
        db.session.rollback()
        raise click.ClickException(
            f"Nothing imported: {len(report.refusals)} refusals in {report.rows} rows."
        )
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: all {report.rows} rows can be imported; nothing imported.")
        return
    db.session.commit()
    click.echo(f"Imported {report.imported} members.")


@coop.command("create-admin")
@click.argument("email")
@click.option("--name", prompt=True, help="The admin's name.")
@click.password_option(help="The admin's password (asked for when left out).")
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create an admin account for EMAIL, or make its existing account an admin."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        user = User(email=normalise_email(email), name=name, locale="nl")
        db.session.add(user)
    user.set_password(password)
    user.is_admin = True
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    db.session.commit()
    click.echo(f"{user.email} is an admin.")


BOARD_ROLES = ("chair", "secretary", "treasurer", "member", "none")


@coop.command("board-role")
@click.argument("email")
@click.argument("role", type=click.Choice(BOARD_ROLES))
def board_role_command(email: str, role: str) -> None:
    """Give the account EMAIL a seat on the board (ROLE: chair, secretary, treasurer or
    member), or take it away (none). The board convenes the general meeting."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    user.board_role = None if role == "none" else role
    db.session.commit()
    click.echo(f"{user.email}: {role}.")


@coop.command("programme-staff")
@click.argument("email")
@click.argument("answer", type=click.Choice(("yes", "no")))
def programme_staff_command(email: str, answer: str) -> None:
    """Give the account EMAIL the programme-staff role (yes), or take it away (no).
    Programme staff form koppels, publish and moderate the collaborations with the city
    (admins do this too on /admin/programme-staff)."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    user.is_programme_staff = answer == "yes"
    db.session.commit()
    click.echo(f"{user.email}: programme staff {answer}.")


@coop.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Copy the SQLite database into the new file PATH, safely while the site runs.

    Uses SQLite's online backup, so people may keep registering meanwhile. A PostgreSQL
    database is backed up with `pg_dump` instead (see "Backups" in the README).
    """
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "This site runs on PostgreSQL: back it up with pg_dump "
            '(see "Backups" in the README), not with this command.'
        )
    if not url.database or url.database == ":memory:":
        raise click.ClickException("This database lives in memory only: there is no file.")
    if path.exists():
        raise click.ClickException(f"{path} exists already: choose a new file name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(path)
    try:
        with target:
            source.backup(target)
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    if check != "ok":
        raise click.ClickException(f"The copy in {path} is damaged: {check}")
    click.echo(f"Backed up the database to {path} ({path.stat().st_size // 1024} KiB).")


def init_app(app: Flask) -> None:
    from . import (
        cli_sepa,  # noqa: F401 - registers `coop collect-dues`
        cli_worker,  # noqa: F401 - registers `coop worker`
    )

    app.cli.add_command(coop)
