"""event reminders: hours before the start per event, when each party was reminded, and
when the kitchen's summary went out

Revision ID: 05ee194a573b
Revises: 6ea5c485d973
Create Date: 2026-12-07 02:42:42

"""

import sqlalchemy as sa
from alembic import op

import cooperative.models.types

# revision identifiers, used by Alembic.
revision = "05ee194a573b"
down_revision = "6ea5c485d973"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminder_hours", sa.Integer(), server_default="24", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "kitchen_summary_sent_at", cooperative.models.types.UTCDateTime(), nullable=True
            )
        )

    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminded_at", cooperative.models.types.UTCDateTime(), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("kitchen_summary_sent_at")
        batch_op.drop_column("reminder_hours")
