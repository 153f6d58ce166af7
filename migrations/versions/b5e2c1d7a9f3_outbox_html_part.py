"""outbox html part

Revision ID: b5e2c1d7a9f3
Revises: 5e55c0de4b1e
Create Date: 2026-12-06 18:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b5e2c1d7a9f3"
down_revision = "5e55c0de4b1e"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_html", sa.Text(), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("body_html")
