"""The worker's own records: each periodic job's latest claimed run, and each worker
process's last tick (`coop worker`, cooperative/worker.py)."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import UTCDateTime


class WorkerJob(db.Model):
    """One row per periodic job (`worker_jobs.JOBS`): the due time of its latest run that
    a worker claimed, who claimed it, and how that run ended.

    A worker claims a due run by moving `due_at` forward in one conditional UPDATE
    (`services.job_runs.claim`): of several workers only one finds the old `due_at` still
    there, so each due run is made once. One row per job, overwritten run after run, so the
    outbox sent every few seconds leaves no trail of rows behind.
    """

    __tablename__ = "worker_jobs"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    name: so.Mapped[str] = so.mapped_column(sa.String(60), primary_key=True)
    # The due time of the latest run claimed; None before the first.
    due_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    claimed_by: so.Mapped[str] = so.mapped_column(sa.String(120), default="", server_default="")
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # None while the claimed run is under way (or its worker died during it).
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The traceback of the latest run when it failed, "" when it went well.
    error: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    # Runs failed in a row; back to 0 after one that goes well.
    failures: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    last_success_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class WorkerHeartbeat(db.Model):
    """A worker process (host and process id) and its latest tick, for `/healthz`."""

    __tablename__ = "worker_heartbeats"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    worker: so.Mapped[str] = so.mapped_column(sa.String(120), primary_key=True)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ticked_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
