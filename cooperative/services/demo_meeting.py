"""The demo's general meeting: convened 20 days ahead, with an agenda of three items of
which one changes the statutes, online voting allowed, so `make run` shows the members'
side of the ALV (the agenda, registering, proxies) and the board's."""

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..i18n import local_zone
from ..models import Meeting, User, utcnow
from . import meetings

SLUG = "alv-voorjaar"
AGENDA = (
    ("Opening en vaststelling van de agenda", "Opening and the agenda", False, False),
    ("Jaarrekening 2026", "Annual accounts 2026", True, False),
    (
        "Wijziging van de statuten: stemmen op afstand",
        "Change of the statutes: voting from a distance",
        True,
        True,
    ),
)


def seed_meeting(today: date) -> int:
    """Add the demo meeting when it is not there; return how many were added (0 or 1)."""
    if db.session.scalar(sa.select(Meeting.id).where(Meeting.slug == SLUG)) is not None:
        return 0
    starts = datetime.combine(today + timedelta(days=20), time(19, 30), tzinfo=local_zone())
    meeting = meetings.save_meeting(
        meetings.MeetingPlan(
            title="Algemene ledenvergadering voorjaar",
            slug=SLUG,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2, minutes=30),
            location="Buurthuis De Meent, Javastraat 1, Amsterdam",
            online_url="https://meet.example.org/meentcoop-alv",
            online_voting=True,
            quorum_rules="Voor een wijziging van de statuten moet een derde van de leden "
            "aanwezig of vertegenwoordigd zijn.",
            statutes_quorum_percent=33,
        )
    )
    for title_nl, title_en, has_vote, statutes in AGENDA:
        meetings.add_item(meeting, title_nl, title_en, "", has_vote, statutes)
    board = db.session.scalar(sa.select(User).where(User.is_admin).order_by(User.id))
    meetings.convene(
        meeting,
        "Beste leden,\n\nHierbij roepen wij u op voor de algemene ledenvergadering. "
        "De stukken staan bij de agenda.\n\nHet bestuur",
        board,
        utcnow(),
    )
    return 1
