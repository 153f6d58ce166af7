"""mandates given: a counter on the membership for the sequence in mandate references

Revision ID: 5d1e7a3f9b20
Revises: 3c4f8e21a7d5
Create Date: 2026-12-07 01:25:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5d1e7a3f9b20"
down_revision = "3c4f8e21a7d5"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mandates_given", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE memberships SET mandates_given = (SELECT COUNT(*) FROM sepa_mandates"
        " WHERE sepa_mandates.membership_id = memberships.id)"
    )


def downgrade():
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("mandates_given")
