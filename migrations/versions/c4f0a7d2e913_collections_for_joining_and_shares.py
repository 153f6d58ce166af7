"""collections for joining and shares: what a collection pays

Revision ID: c4f0a7d2e913
Revises: 4c8feaa1f00b
Create Date: 2026-12-07 00:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

import cooperative.models.types

# revision identifiers, used by Alembic.
revision = "c4f0a7d2e913"
down_revision = "4c8feaa1f00b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "purpose",
                sa.Enum(
                    "dues", "join", "shares", name="collectionpurpose", native_enum=False, length=20
                ),
                nullable=False,
                server_default="dues",
            )
        )
        batch_op.add_column(sa.Column("share_purchase_id", sa.Integer(), nullable=True))
        batch_op.alter_column(
            "period_ends_at",
            existing_type=cooperative.models.types.UTCDateTime(),
            nullable=True,
        )
        batch_op.create_index(
            batch_op.f("ix_collections_share_purchase_id"), ["share_purchase_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_collections_share_purchase_id_share_purchases"),
            "share_purchases",
            ["share_purchase_id"],
            ["id"],
            ondelete="CASCADE",
        )
    # The default served only the rows already there: the model always says what it pays.
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.alter_column("purpose", server_default=None)


def downgrade():
    op.execute("DELETE FROM collections WHERE period_ends_at IS NULL")
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_collections_share_purchase_id_share_purchases"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_collections_share_purchase_id"))
        batch_op.alter_column(
            "period_ends_at",
            existing_type=cooperative.models.types.UTCDateTime(),
            nullable=False,
        )
        batch_op.drop_column("share_purchase_id")
        batch_op.drop_column("purpose")
