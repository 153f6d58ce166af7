"""page versions

Revision ID: 47c37f98bb9f
Revises: 0a349a13f3b8
Create Date: 2026-11-26 15:01:16.298222

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "47c37f98bb9f"
down_revision = "0a349a13f3b8"
branch_labels = None
depends_on = None


def upgrade():
    page_versions = op.create_table(
        "page_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_versions")),
    )
    # The one row the page cache reads and every public change counts up.
    op.bulk_insert(page_versions, [{"id": 1, "version": 0}])


def downgrade():
    op.drop_table("page_versions")
