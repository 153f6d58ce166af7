"""`flask --app cooperative coop worker`: the one process that runs every periodic job."""

import logging
import signal
import threading

import click
from flask import current_app
from flask.logging import default_handler, has_level_handler

from .cli import coop


@coop.command("worker")
@click.option(
    "--once",
    is_flag=True,
    help="Run each job whose due run no worker made yet, print how each went, and stop "
    "(exit code 1 when one failed).",
)
@click.option(
    "--run-for",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Stop after this many seconds (for trials and tests).",
)
def worker_command(once: bool, run_for: float | None) -> None:
    """Send the outbox and run every periodic job on its schedule (Europe/Amsterdam):
    expiring holds, Stripe calls, membership reminders, the dues run, the purge. Several
    workers, on several hosts, may run at once: each due run is made by one of them.
    Stops on SIGTERM or Ctrl+C after the runs under way end."""
    from .worker import Outcome, Worker

    _log_to_stderr()
    worker = Worker(current_app._get_current_object())
    if once:
        results = worker.run_once()
        for name, result in results.items():
            click.echo(
                f"{name}: {result.outcome}" + (f" ({result.report})" if result.report else "")
            )
        if any(result.outcome is Outcome.FAILED for result in results.values()):
            raise SystemExit(1)
        return
    stop = threading.Event()
    stopping = (signal.SIGTERM, signal.SIGINT)
    before = {number: signal.signal(number, lambda *_: stop.set()) for number in stopping}
    names = ", ".join(job.name for job in worker.jobs)
    click.echo(f"Worker {worker.name} runs: {names}. Stop it with Ctrl+C.")
    try:
        worker.run(stop, run_for)
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
    click.echo(f"Worker {worker.name} stopped.")


def _log_to_stderr() -> None:
    """The worker's log lines (jobs that did something, failures with their traceback) on
    standard error, where systemd's journal picks them up, through the app's logger;
    APScheduler's own line about every run only when it warns."""
    logger = logging.getLogger("cooperative")
    logger.setLevel(logging.INFO)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
