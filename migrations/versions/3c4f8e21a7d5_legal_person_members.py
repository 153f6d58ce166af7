"""legal person members: organisation name and KvK number on the register entry

Revision ID: 3c4f8e21a7d5
Revises: c4f0a7d2e913
Create Date: 2026-12-07 00:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3c4f8e21a7d5"
down_revision = "c4f0a7d2e913"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("organisation_name", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("kvk_number", sa.String(length=8), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("kvk_number")
        batch_op.drop_column("organisation_name")
