"""user session key: a new key logs a person out on every device

Revision ID: 5e55c0de4b1e
Revises: 275a39b0f354
Create Date: 2026-12-06 17:45:00.000000

"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5e55c0de4b1e"
down_revision = "275a39b0f354"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_key", sa.String(length=32), nullable=True))
    # Each existing account gets a random key of its own; sessions made before this
    # migration hold no key and end (everyone logs in once more).
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_key", sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(session_key=secrets.token_urlsafe(16))
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("session_key", existing_type=sa.String(length=32), nullable=False)


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_key")
