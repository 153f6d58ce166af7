"""Announcements to members by interest (domains, followed collectives) and to the people
registered for an event; the outbox carries headers of its own (List-Unsubscribe).

Revision ID: 33872b92cef9
Revises: 0173bbf835d0
Create Date: 2026-12-07 05:48:55.344623

"""

import sqlalchemy as sa
from alembic import op

import cooperative.models.types

# revision identifiers, used by Alembic.
revision = "33872b92cef9"
down_revision = "0173bbf835d0"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "profile_collectives",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collective_id"],
            ["collectives.id"],
            name=op.f("fk_profile_collectives_collective_id_collectives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["profiles.user_id"],
            name=op.f("fk_profile_collectives_user_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "collective_id", name=op.f("pk_profile_collectives")),
    )
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column(
            "audience",
            sa.Enum(
                "domain", "collective", "event", name="audiencekind", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("domain_id", sa.Integer(), nullable=True),
        sa.Column("collective_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("audience_name", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("created_at", cooperative.models.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", cooperative.models.types.UTCDateTime(), nullable=False),
        sa.Column("last_mail_at", cooperative.models.types.UTCDateTime(), nullable=False),
        sa.Column("recipient_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_announcements_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["collective_id"],
            ["collectives.id"],
            name=op.f("fk_announcements_collective_id_collectives"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_announcements_domain_id_domains"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_announcements_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_announcements_author_id"), ["author_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_announcements_collective_id"), ["collective_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_announcements_domain_id"), ["domain_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_announcements_event_id"), ["event_id"], unique=False)

    op.create_table(
        "announcement_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_recipients_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_messages.id"],
            name=op.f("fk_announcement_recipients_outbox_message_id_outbox_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_announcement_recipients_registration_id_registrations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_announcement_recipients_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_recipients")),
    )
    with op.batch_alter_table("announcement_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_announcement_recipients_announcement_id"),
            ["announcement_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_announcement_recipients_outbox_message_id"),
            ["outbox_message_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_announcement_recipients_registration_id"),
            ["registration_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_announcement_recipients_user_id"), ["user_id"], unique=False
        )

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headers", sa.JSON(), server_default="{}", nullable=False))

    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("announcements_off", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("announcements_off")

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("headers")

    with op.batch_alter_table("announcement_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcement_recipients_user_id"))
        batch_op.drop_index(batch_op.f("ix_announcement_recipients_registration_id"))
        batch_op.drop_index(batch_op.f("ix_announcement_recipients_outbox_message_id"))
        batch_op.drop_index(batch_op.f("ix_announcement_recipients_announcement_id"))

    op.drop_table("announcement_recipients")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcements_event_id"))
        batch_op.drop_index(batch_op.f("ix_announcements_domain_id"))
        batch_op.drop_index(batch_op.f("ix_announcements_collective_id"))
        batch_op.drop_index(batch_op.f("ix_announcements_author_id"))

    op.drop_table("announcements")
    op.drop_table("profile_collectives")
