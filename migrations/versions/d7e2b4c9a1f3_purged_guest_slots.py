"""A guest's slot whose address is purged no longer counts in the one-address-per-task
index, so several purged slots of one task may stand side by side.

Revision ID: d7e2b4c9a1f3
Revises: 33872b92cef9
Create Date: 2026-12-07 06:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d7e2b4c9a1f3"
down_revision = "33872b92cef9"
branch_labels = None
depends_on = None

OLD = "cancelled_at IS NULL AND user_id IS NULL"
NEW = "cancelled_at IS NULL AND user_id IS NULL AND email <> ''"


def _index(where: str) -> None:
    with op.batch_alter_table("task_signups", schema=None) as batch_op:
        batch_op.create_index(
            "uq_task_signups_active_email",
            ["task_id", "email"],
            unique=True,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def _drop(where: str) -> None:
    with op.batch_alter_table("task_signups", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_task_signups_active_email",
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def upgrade():
    _drop(OLD)
    _index(NEW)


def downgrade():
    # Purged slots would clash under the old index: they are given up first.
    op.execute(
        "UPDATE task_signups SET cancelled_at = created_at "
        "WHERE cancelled_at IS NULL AND user_id IS NULL AND email = ''"
    )
    _drop(NEW)
    _index(OLD)
