"""outbox mail points at its registration; when a member left

Revision ID: 275a39b0f354
Revises: 47c37f98bb9f
Create Date: 2026-12-06 17:50:00

"""

import sqlalchemy as sa
from alembic import op

import cooperative.models.types

# revision identifiers, used by Alembic.
revision = "275a39b0f354"
down_revision = "47c37f98bb9f"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registration_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_registration_id_registrations"),
            "registrations",
            ["registration_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("left_at", cooperative.models.types.UTCDateTime(), nullable=True)
        )
    # Those who left before there was a date for it: their paid period's end (lapsed),
    # else the day they applied (turned down). The purge counts its years from there.
    memberships = sa.table(
        "memberships",
        sa.column("status", sa.String),
        sa.column("ends_at", sa.DateTime),
        sa.column("created_at", sa.DateTime),
        sa.column("left_at", sa.DateTime),
    )
    op.execute(
        memberships.update()
        .where(memberships.c.status.in_(("lapsed", "cancelled")))
        .values(left_at=sa.func.coalesce(memberships.c.ends_at, memberships.c.created_at))
    )


def downgrade():
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("left_at")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_messages_registration_id_registrations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_outbox_messages_registration_id"))
        batch_op.drop_column("registration_id")
