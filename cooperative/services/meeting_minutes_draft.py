"""A draft of the minutes from what the meeting's rows say, for the secretary to complete:
who was there (in the room, online, by proxy, of how many members; the names as in the
member register), the proxies (grantor → holder), and the result of each closed vote per
agenda item as it was kept when the vote closed (`Vote.result`).

It changes nothing: the secretary's page puts it in the text area, and it is saved only
when the secretary saves. It is written in the secretary's language. "Of how many
members" is the number of active members now (the quorum's count); each vote has its own
count of who could vote, kept with its result.
"""

import re

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..i18n import long_date, long_datetime
from ..models import (
    AgendaItem,
    AttendanceMode,
    Meeting,
    MeetingAttendance,
    Membership,
    Proxy,
    ProxyStatus,
    Vote,
    VoteKind,
    VoteQuestion,
    VoteStatus,
    VoteWeighting,
)
from . import meeting_attendance

# Characters that mean something inside a line (names never start one in the draft).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def escape(text: str) -> str:
    """`text` as plain words in Markdown: its special characters escaped, on one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def register_name(membership: Membership) -> str:
    """The member's name as in the member register: the organisation and who represents
    it for a legal person; the account's name, or the member number, when the register
    has no name."""
    name = membership.registered_name
    if not name and membership.user is not None:
        name = membership.user.name
    if not name:
        name = _("member no. %(number)s", number=membership.number or membership.id)
    if membership.organisation_name:
        return f"{membership.organisation_name} ({name})"
    return name


def _names(memberships) -> list[str]:
    return sorted((register_name(m) for m in memberships), key=str.casefold)


def _percent(part: int, whole: int) -> int:
    return round(part * 100 / whole) if whole else 0


def _attendance(meeting: Meeting) -> list[str]:
    present = db.session.scalars(
        sa.select(MeetingAttendance)
        .where(
            MeetingAttendance.meeting_id == meeting.id,
            MeetingAttendance.present_at.is_not(None),
        )
        .options(sa.orm.joinedload(MeetingAttendance.membership).joinedload(Membership.user))
    ).all()
    room = [a.membership for a in present if a.mode == AttendanceMode.ROOM]
    online = [a.membership for a in present if a.mode == AttendanceMode.ONLINE]
    present_ids = {a.membership_id for a in present}
    taking_part = meeting_attendance.taking_part_ids(meeting)
    represented = len(taking_part - present_ids)
    quorum = meeting_attendance.quorum(meeting)
    lines = [
        "## " + _("Attendance"),
        "",
        "- " + _("Present in the room: %(num)s", num=len(room)),
        "- " + _("Present online: %(num)s", num=len(online)),
        "- " + _("Represented by proxy: %(num)s", num=represented),
        "- "
        + _(
            "Taking part: %(num)s of the %(members)s members",
            num=len(taking_part),
            members=quorum.members,
        ),
    ]
    if quorum.percent is not None:
        met = _("met") if quorum.met else _("not met")
        lines.append("- " + _("Quorum (%(percent)s%%): %(met)s", percent=quorum.percent, met=met))
    lines.append("")
    for heading, people in ((_("In the room"), room), (_("Online"), online)):
        if people:
            lines += ["### " + heading, ""]
            lines += ["- " + escape(name) for name in _names(people)]
            lines.append("")
    return lines


def _proxies(meeting: Meeting) -> list[str]:
    proxies = db.session.scalars(
        sa.select(Proxy)
        .where(Proxy.meeting_id == meeting.id, Proxy.status == ProxyStatus.ACCEPTED)
        .options(
            sa.orm.joinedload(Proxy.grantor).joinedload(Membership.user),
            sa.orm.joinedload(Proxy.holder).joinedload(Membership.user),
        )
    ).all()
    lines = ["## " + _("Proxies"), ""]
    if not proxies:
        return [*lines, _("No proxies were given."), ""]
    pairs = sorted(
        ((register_name(p.grantor), register_name(p.holder)) for p in proxies),
        key=lambda pair: (pair[0].casefold(), pair[1].casefold()),
    )
    lines += [f"- {escape(grantor)} → {escape(holder)}" for grantor, holder in pairs]
    return [*lines, ""]


_MEANINGS = {
    "for": lambda: _("For"),
    "against": lambda: _("Against"),
    "abstain": lambda: _("Abstain"),
}


def _option_name(option: dict) -> str:
    """A candidate's or an answer's own label; for, against or abstain in words otherwise."""
    meaning = option.get("meaning")
    return option.get("label") or _MEANINGS.get(meaning, lambda: str(meaning or ""))()


def _vote_lines(vote: Vote, weighted: bool) -> list[str]:
    result = vote.result or {}
    kind = _("secret vote") if vote.kind == VoteKind.SECRET else _("open vote")
    lines = [f"**{escape(vote.title)}** ({kind})", ""]
    for option in result.get("options", []):
        count = option.get("count", 0)
        text = f"- {escape(_option_name(option))}: " + ngettext(
            "%(num)s member", "%(num)s members", count
        )
        if weighted:
            text += " " + ngettext("(%(num)s vote)", "(%(num)s votes)", option.get("weight", 0))
        lines.append(text)
    voters, eligible = result.get("voters", 0), result.get("eligible", 0)
    turnout = _(
        "Turnout: %(voters)s of the %(eligible)s members who could vote (%(percent)s%%)",
        voters=voters,
        eligible=eligible,
        percent=_percent(voters, eligible),
    )
    if weighted:
        turnout += "; " + _(
            "%(weight)s of %(total)s votes",
            weight=result.get("weight", 0),
            total=result.get("eligible_weight", 0),
        )
    lines.append("- " + turnout)
    if result.get("quorum_percent") is None:
        lines.append("- " + _("No quorum needed"))
    else:
        met = _("met") if result.get("quorum_met") else _("not met")
        lines.append(
            "- "
            + _(
                "Quorum (%(percent)s%%): %(met)s, %(present)s members present or represented",
                percent=result["quorum_percent"],
                met=met,
                present=result.get("present", 0),
            )
        )
    lines.append("- " + _outcome(vote, result))
    return [*lines, ""]


def _outcome(vote: Vote, result: dict) -> str:
    if vote.question == VoteQuestion.ELECTION:
        elected = set(result.get("elected") or [])
        names = [
            escape(_option_name(o)) for o in result.get("options", []) if o.get("id") in elected
        ]
        if not names:
            return "**" + _("Nobody was elected") + "**"
        return "**" + _("Elected: %(names)s", names=", ".join(names)) + "**"
    return "**" + (_("Adopted") if result.get("passed") else _("Rejected")) + "**"


def _decisions(meeting: Meeting, locale: str) -> list[str]:
    votes = db.session.scalars(
        sa.select(Vote)
        .join(Vote.item)
        .where(
            AgendaItem.meeting_id == meeting.id,
            Vote.status == VoteStatus.CLOSED,
            Vote.result.is_not(None),
        )
        .order_by(AgendaItem.position, Vote.closed_at, Vote.id)
    ).all()
    by_item: dict[int, list[Vote]] = {}
    for vote in votes:
        by_item.setdefault(vote.agenda_item_id, []).append(vote)
    weighted = meeting.vote_weighting == VoteWeighting.PER_SHARE
    lines = ["## " + _("Agenda and decisions"), ""]
    for number, item in enumerate(meeting.items, start=1):
        lines += [f"### {number}. {escape(item.title(locale))}", ""]
        for vote in by_item.get(item.id, []):
            lines += _vote_lines(vote, weighted)
    return lines


def draft(meeting: Meeting, locale: str) -> str:
    """The draft of the minutes in Markdown, from the meeting's attendance, proxies and
    closed votes."""
    head = [
        "# " + _("Minutes: %(title)s", title=escape(meeting.title)),
        "",
        _("Held on %(when)s.", when=long_datetime(meeting.starts_at)),
    ]
    if meeting.location:
        head[-1] += " " + _("Place: %(place)s.", place=escape(meeting.location))
    if meeting.convened_at is not None:
        head.append("")
        head.append(_("Convened on %(day)s.", day=long_date(meeting.convened_at)))
    head.append("")
    lines = head + _attendance(meeting) + _proxies(meeting) + _decisions(meeting, locale)
    return "\n".join(lines).strip() + "\n"
