"""Test data for the general meeting (issue 16): members with and without consent to
e-mail, a meeting a given number of days ahead, a small PDF."""

from datetime import timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Meeting, MembershipPlan, User
from cooperative.services import meetings, register
from cooperative.services import membership as memberships
from tests.factories import ADDRESS, amsterdam_time, make_admin, make_plan, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_voter(email: str, consent: bool = False, name: str = "Ada Lovelace", **address):
    """An active member with an address; `consent`: official notices by e-mail."""
    plan = db.session.scalar(sa.select(MembershipPlan)) or make_plan()
    user = make_user(email, name=name)
    membership = memberships.join(
        user,
        plan,
        address=register.Address(**{**ADDRESS, "registered_name": name, **address}),
        email_notices=consent,
    )
    db.session.commit()
    return user, membership


def make_meeting(days: int = 30, items=(("Jaarrekening 2026", False),), **fields) -> Meeting:
    """A draft meeting `days` ahead (Amsterdam days, 19:30), with agenda items given as
    (title, changes_statutes)."""
    starts = amsterdam_time(days, 19, 30)
    plan = meetings.MeetingPlan(
        title=fields.pop("title", "Algemene ledenvergadering"),
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        location=fields.pop("location", "Buurthuis De Meent, Javastraat 1"),
        **fields,
    )
    meeting = meetings.save_meeting(plan)
    for title, statutes in items:
        meetings.add_item(meeting, title, changes_statutes=statutes)
    db.session.commit()
    return meeting


def ref(meeting: Meeting) -> SimpleNamespace:
    """What a test needs of a meeting after its session is gone."""
    return SimpleNamespace(
        id=meeting.id,
        slug=meeting.slug,
        title=meeting.title,
        item_ids=[item.id for item in meeting.items],
    )


def convened_meeting(days: int = 20, **fields) -> Meeting:
    """A meeting `days` ahead, hybrid (in the room, and online at a link), convened by the
    board (an admin, made when there is none)."""
    admin = db.session.scalar(sa.select(User).where(User.is_admin).limit(1))
    fields.setdefault("online_url", "https://meet.example.org/alv")
    meeting = make_meeting(days, **fields)
    meetings.convene(meeting, "U bent van harte welkom.", admin or make_admin("board@example.org"))
    db.session.commit()
    return meeting


def make_voters(count: int, prefix: str = "lid") -> list:
    """`count` active members (their register entries), numbered in order, each with an
    account `<prefix><n>@example.org` and name `Lid <n>`."""
    return [make_voter(f"{prefix}{n}@example.org", name=f"Lid {n}")[1] for n in range(1, count + 1)]
