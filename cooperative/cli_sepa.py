"""`flask --app cooperative coop collect-dues`: the yearly dues run."""

from datetime import date

import click

from .cli import coop
from .extensions import db
from .refusals import Refused
from .services import dues, sepa, sepa_stripe


@coop.command("collect-dues")
@click.option(
    "--debit-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="When the dues are debited (YYYY-MM-DD); at the earliest, and by default, "
    "SEPA_PRENOTIFICATION_DAYS from today.",
)
def collect_dues_command(debit_date) -> None:
    """Make a collection for every member with a mandate whose yearly dues are due by the
    debit date and e-mail each of them; then send Stripe the debits whose date has come
    (run it from cron once a day: a day with nobody owing only sends)."""
    day: date = debit_date.date() if debit_date else sepa.earliest_debit_date()
    try:
        run = dues.run_dues(day)
    except Refused as refusal:
        db.session.rollback()
        date_refused = day < sepa.earliest_debit_date() or not sepa.is_target_day(day)
        if debit_date and date_refused:
            raise click.ClickException(str(refusal.message)) from None
        click.echo(f"No collections for {day.isoformat()}: {refusal.message}")
    else:
        db.session.commit()
        click.echo(
            f"Run {run.id}: {len(run.collections)} collections for {day.isoformat()}, "
            "members told by e-mail."
        )
    submitted = sepa_stripe.submit_due()
    db.session.commit()
    click.echo(f"Sent {submitted} due debits to Stripe.")
