"""Work kept in a table and done after the commit (the outbox's mail, the Stripe calls): a
worker claims a due row, does the work, then marks it, each step in its own commit, so
nothing slow happens while a lock is held and two workers never take the same row."""

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..models import utcnow


def claim_due(session: so.Session, model, row_id: int, pending, hold: timedelta) -> bool:
    """Take row `row_id` of `model` for this worker, if it is still `pending` and due, and
    commit: the attempt is counted and other workers keep away for `hold` (after which a
    worker that died with it is taken to have failed). False when it is no longer due:
    another worker has it, or it is done."""
    now = utcnow()
    claimed = session.execute(
        sa.update(model)
        .where(model.id == row_id, model.status == pending, model.next_attempt_at <= now)
        .values(attempts=model.attempts + 1, next_attempt_at=now + hold)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(claimed)
