"""Event series: a recurrence rule and a template; events know their series and date

Revision ID: 55ade2666eaa
Revises: 89d2469bff53
Create Date: 2026-12-07 02:43:22.804157

"""

import sqlalchemy as sa
from alembic import op

import cooperative.models.types

# revision identifiers, used by Alembic.
revision = "55ade2666eaa"
down_revision = "89d2469bff53"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "event_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=300), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("exception_dates", sa.JSON(), nullable=False),
        sa.Column("horizon_weeks", sa.Integer(), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("created_at", cooperative.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collective_id"],
            ["collectives.id"],
            name=op.f("fk_event_series_collective_id_collectives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_series")),
    )
    with op.batch_alter_table("event_series", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_series_collective_id"), ["collective_id"], unique=False
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("occurrence_date", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_events_series_id"), ["series_id"], unique=False)
        batch_op.create_unique_constraint(
            "uq_events_series_occurrence", ["series_id", "occurrence_date"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_events_series_id_event_series"),
            "event_series",
            ["series_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_events_series_id_event_series"), type_="foreignkey")
        batch_op.drop_constraint("uq_events_series_occurrence", type_="unique")
        batch_op.drop_index(batch_op.f("ix_events_series_id"))
        batch_op.drop_column("occurrence_date")
        batch_op.drop_column("series_id")

    with op.batch_alter_table("event_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_series_collective_id"))

    op.drop_table("event_series")
