"""member register: name and address as registered, admission, consent to e-mail
notices, cancellation in writing, leaving way; the entry outlives the account

Revision ID: a15e9c3d7b21
Revises: 57d48afa4ce7
Create Date: 2026-12-06 23:55:00

"""

import sqlalchemy as sa
from alembic import op

import cooperative.models.types

revision = "a15e9c3d7b21"
down_revision = "57d48afa4ce7"
branch_labels = None
depends_on = None

LEAVING_WAY = sa.Enum(
    "by_member",
    "by_cooperative",
    "deceased",
    "lapsed",
    name="leavingway",
    native_enum=False,
    length=20,
)


def upgrade():
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("registered_name", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("street", sa.String(length=120), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("house_number", sa.String(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("postcode", sa.String(length=16), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("city", sa.String(length=80), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("country", sa.String(length=2), server_default="NL", nullable=False)
        )
        batch_op.add_column(sa.Column("admitted_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "admission_letter_sent_at",
                cooperative.models.types.UTCDateTime(),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "email_notices_consent_at",
                cooperative.models.types.UTCDateTime(),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("cancellation_received_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "cancellation_acknowledged_at",
                cooperative.models.types.UTCDateTime(),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("leaves_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("leaving_way", LEAVING_WAY, nullable=True))
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint("fk_memberships_user_id_users", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_memberships_user_id_users", "users", ["user_id"], ["id"], ondelete="SET NULL"
        )
    # The register as it stands: the account's name, the first day as a member, and
    # "lapsed" for those who lapsed.
    op.execute(
        "UPDATE memberships SET registered_name = "
        "(SELECT users.name FROM users WHERE users.id = memberships.user_id)"
    )
    memberships = sa.table(
        "memberships",
        sa.column("started_at", cooperative.models.types.UTCDateTime()),
        sa.column("admitted_on", sa.Date()),
        sa.column("number", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("leaving_way", sa.String()),
    )
    op.execute(
        memberships.update()
        .where(memberships.c.number.is_not(None), memberships.c.started_at.is_not(None))
        .values(admitted_on=sa.func.date(memberships.c.started_at))
    )
    op.execute(
        memberships.update().where(memberships.c.status == "lapsed").values(leaving_way="lapsed")
    )


def downgrade():
    # Register entries without an account cannot go back to a required account.
    op.execute("DELETE FROM memberships WHERE user_id IS NULL")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_constraint("fk_memberships_user_id_users", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_memberships_user_id_users", "users", ["user_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        for column in (
            "leaving_way",
            "leaves_on",
            "cancellation_acknowledged_at",
            "cancellation_received_on",
            "email_notices_consent_at",
            "admission_letter_sent_at",
            "admitted_on",
            "country",
            "city",
            "postcode",
            "house_number",
            "street",
            "registered_name",
        ):
            batch_op.drop_column(column)
