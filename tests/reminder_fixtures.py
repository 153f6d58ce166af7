"""Helpers of the reminder tests (`tests/test_reminders.py`, `tests/test_kitchen_summary_mail.py`):
a second of the frozen clock, and several workers running one job at the same moment."""

import threading
from datetime import timedelta

from cooperative.extensions import db

SECOND = timedelta(seconds=1)


def run_at_once(app, job, now, workers: int = 2) -> list[int]:
    """Run `job(now)` in `workers` threads at the same moment, each on its own database
    connection, as several worker processes would; return what each returned."""
    barrier = threading.Barrier(workers)
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait(timeout=30)
        with app.app_context():
            try:
                done = job(now)
            except BaseException as error:
                with lock:
                    errors.append(error)
                raise
            finally:
                db.session.remove()
            with lock:
                results.append(done)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == workers, "a worker got lost"
    return results
