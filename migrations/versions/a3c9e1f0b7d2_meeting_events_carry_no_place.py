"""A general meeting's event carries no place: the public sees only that it exists.

Revision ID: a3c9e1f0b7d2
Revises: 55ade2666eaa
Create Date: 2026-12-07 03:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a3c9e1f0b7d2"
down_revision = "55ade2666eaa"
branch_labels = None
depends_on = None


def upgrade():
    # The place stays on the meeting (for members); the public event forgets it.
    op.execute(
        "UPDATE events SET venue = '', address = '' WHERE id IN (SELECT event_id FROM meetings)"
    )


def downgrade():
    op.execute(
        "UPDATE events SET venue = substr((SELECT location FROM meetings "
        "WHERE meetings.event_id = events.id), 1, 160), "
        "address = (SELECT location FROM meetings WHERE meetings.event_id = events.id) "
        "WHERE id IN (SELECT event_id FROM meetings)"
    )
