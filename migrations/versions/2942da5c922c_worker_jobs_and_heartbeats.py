"""worker jobs and heartbeats: each periodic job's latest claimed run, each worker's tick

Revision ID: 2942da5c922c
Revises: 05ee194a573b
Create Date: 2026-12-07 02:44:18.117940

"""

import sqlalchemy as sa
from alembic import op

import cooperative.models.types

# revision identifiers, used by Alembic.
revision = "2942da5c922c"
down_revision = "05ee194a573b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.Column("started_at", cooperative.models.types.UTCDateTime(), nullable=False),
        sa.Column("ticked_at", cooperative.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_heartbeats")),
        info={"on_public_pages": False},
    )
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_worker_heartbeats_ticked_at"), ["ticked_at"], unique=False
        )

    op.create_table(
        "worker_jobs",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("due_at", cooperative.models.types.UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=120), server_default="", nullable=False),
        sa.Column("started_at", cooperative.models.types.UTCDateTime(), nullable=True),
        sa.Column("finished_at", cooperative.models.types.UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_success_at", cooperative.models.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_jobs")),
        info={"on_public_pages": False},
    )


def downgrade():
    op.drop_table("worker_jobs")
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_heartbeats_ticked_at"))
    op.drop_table("worker_heartbeats")
