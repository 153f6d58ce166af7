"""The general meeting: the meeting and its event, the agenda,
its documents, and the convocation.

Rules (Boek 2 BW; the statutes may ask more, so the numbers are settings or fields):
- The convocation goes at least `Meeting.notice_days` before the meeting (default
  `MEETING_NOTICE_DAYS`, 14), and at least 7 days when an item changes the statutes
  (art. 2:42). Days are counted as calendar days in Amsterdam from the day it is sent to
  the day of the meeting: sent on the 1st, a meeting on the 15th has 14 days' notice.
- It goes by e-mail (through the outbox) only to active members who agreed to official
  notices by e-mail and have an account to send to (art. 2:41 lid 5); every other active
  member is on the meeting's letter list (`register.letter_list_query`, the same list as
  the register's letters). Each is recorded (`ConvocationRecord`) with when and how.
- A meeting is convened once: a second send is refused (one conditional UPDATE, so two
  clicks at the same moment send once). After it the date, the place and the agenda stay
  as they were sent; documents may still be added.
- Documents are PDFs (content type and the `%PDF-` magic checked), at most
  `MEETING_DOCUMENT_MAX_BYTES`, kept in the database or under `UPLOAD_DIR`. Members see
  them from the convocation on (a statutes change's text, art. 2:42 lid 2: from then
  until the meeting ends, and kept afterwards for the record).

Services flush; the caller commits.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import local_zone
from ..models import (
    AgendaDocument,
    AgendaItem,
    ConvocationChannel,
    ConvocationRecord,
    Event,
    EventStatus,
    Meeting,
    MeetingStatus,
    Membership,
    MembershipStatus,
    User,
    VoteWeighting,
    utcnow,
)
from ..refusals import Refused
from ..slugs import free_slug, slug_taken
from .mail import external_url, queue_mail
from .membership import is_active_member
from .register import letter_list_query

SLUG_MAX_LENGTH = 120
STATUTES_NOTICE_DAYS = 7  # art. 2:42 lid 1 BW


@dataclass
class MeetingPlan:
    """A meeting as the board wants it (times aware)."""

    title: str
    starts_at: datetime
    ends_at: datetime
    location: str = ""
    online_url: str = ""
    slug: str = ""
    notice_days: int | None = None
    proxies_allowed: bool = True
    max_proxies_per_member: int | None = None
    online_voting: bool = False
    vote_weighting: VoteWeighting = VoteWeighting.PER_MEMBER
    quorum_rules: str = ""
    quorum_percent: int | None = None
    statutes_quorum_percent: int | None = None


def _refuse_if_convened(meeting: Meeting) -> None:
    if meeting.is_convened:
        raise Refused(
            _l("The convocation has gone out: the meeting and its agenda stay as they were sent."),
            "meeting",
        )


def _event_description(meeting: Meeting) -> str:
    return str(
        _l(
            "The general meeting of the members of MeentCoop. Members find the agenda and "
            "the documents at %(url)s.",
            url=external_url("meetings.show", slug=meeting.slug),
        )
    )


def save_meeting(plan: MeetingPlan, meeting: Meeting | None = None) -> Meeting:
    """Create a meeting with its event (a draft until convened), or change one.

    Refuses an end before the start, a slug another meeting has, and any change once the
    convocation went out.
    """
    if plan.ends_at <= plan.starts_at:
        raise Refused(_l("The meeting must end after it starts."), "ends_at")
    if meeting is None:
        config = current_app.config
        meeting = Meeting(
            notice_days=config["MEETING_NOTICE_DAYS"],
            max_proxies_per_member=config["MEETING_MAX_PROXIES"],
            status=MeetingStatus.DRAFT,
        )
    else:
        _refuse_if_convened(meeting)
    if plan.slug:
        if slug_taken(Meeting.slug, plan.slug, meeting.id):
            raise Refused(_l("Another meeting has this web address."), "slug")
        meeting.slug = plan.slug
    elif not meeting.slug:
        meeting.slug = free_slug(Meeting.slug, plan.title, SLUG_MAX_LENGTH, "alv")
    for name in (
        "title",
        "starts_at",
        "ends_at",
        "location",
        "online_url",
        "proxies_allowed",
        "online_voting",
        "vote_weighting",
        "quorum_rules",
        "quorum_percent",
        "statutes_quorum_percent",
    ):
        setattr(meeting, name, getattr(plan, name))
    if plan.notice_days is not None:
        meeting.notice_days = plan.notice_days
    if plan.max_proxies_per_member is not None:
        meeting.max_proxies_per_member = plan.max_proxies_per_member
    _save_event(meeting)
    db.session.add(meeting)
    db.session.flush()
    event = meeting.event
    event.description = _event_description(meeting)
    return meeting


def _save_event(meeting: Meeting) -> None:
    """The meeting's event: same title and times; unlimited seats, no meals, and no place.
    The event is public (the calendar, the feeds, the API), and the public sees only that
    a meeting exists and when: the place, the online link, the agenda and the documents
    are on the members' page (`/meetings/<slug>`) alone."""
    event = meeting.event
    if event is None:
        event = Event(
            slug=free_slug(Event.slug, meeting.title, SLUG_MAX_LENGTH, "alv"),
            status=EventStatus.DRAFT,
            capacity=None,
            max_party_size=1,
        )
        meeting.event = event
    event.title = meeting.title
    event.starts_at = meeting.starts_at
    event.ends_at = meeting.ends_at
    event.venue = ""
    event.address = ""
    event.audience = str(_l("Members of MeentCoop"))
    event.summary = str(_l("General meeting of the members"))


# --- the agenda ---


def add_item(
    meeting: Meeting,
    title_nl: str,
    title_en: str = "",
    description: str = "",
    has_vote: bool = False,
    changes_statutes: bool = False,
) -> AgendaItem:
    """Add an item at the end of the agenda. Refused once convened."""
    _refuse_if_convened(meeting)
    position = max((item.position for item in meeting.items), default=0) + 1
    item = AgendaItem(
        title_nl=title_nl,
        title_en=title_en,
        description=description,
        has_vote=has_vote or changes_statutes,  # a change of the statutes is voted on
        changes_statutes=changes_statutes,
        position=position,
    )
    meeting.items.append(item)
    db.session.flush()
    return item


def move_item(item: AgendaItem, step: int) -> None:
    """Move an item one place up (-1) or down (+1); at either end nothing changes.
    Refused once convened."""
    meeting = item.meeting
    _refuse_if_convened(meeting)
    items = list(meeting.items)
    index = items.index(item)
    other = index + step
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    for position, each in enumerate(items, start=1):
        each.position = position
    meeting.items = items  # the same items, in their new order
    db.session.flush()


def remove_item(item: AgendaItem) -> None:
    """Take an item (and its documents) off the agenda. Refused once convened."""
    meeting = item.meeting
    _refuse_if_convened(meeting)
    meeting.items.remove(item)
    for position, each in enumerate(meeting.items, start=1):
        each.position = position
    db.session.flush()


# --- documents ---

PDF_TYPES = ("application/pdf", "application/x-pdf")


def _size(limit: int) -> str:
    """A number of bytes as people read it: `10 MB`, `1.5 MB`, `980 kB`."""
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{-(-limit // 1024)} kB"


def add_document(
    item: AgendaItem, filename: str, content_type: str, data: bytes, by: User | None = None
) -> AgendaDocument:
    """Attach a PDF to an agenda item. Refuses another content type, a file that does not
    start as a PDF does (`%PDF-`), an empty one and one over MEETING_DOCUMENT_MAX_BYTES."""
    limit = current_app.config["MEETING_DOCUMENT_MAX_BYTES"]
    if (content_type or "").split(";")[0].strip().lower() not in PDF_TYPES or not data.startswith(
        b"%PDF-"
    ):
        raise Refused(_l("Please choose a PDF file."), "file")
    if len(data) > limit:
        raise Refused(_l("The file is too large: at most %(size)s.", size=_size(limit)), "file")
    digest = hashlib.sha256(data).hexdigest()
    name = Path((filename or "").replace("\\", "/")).name.strip() or "document.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    document = AgendaDocument(
        filename=name[-200:],
        size=len(data),
        sha256=digest,
        uploaded_by_id=by.id if by else None,
    )
    folder = current_app.config["UPLOAD_DIR"]
    if folder:
        stored_name = f"{digest}.pdf"
        path = Path(folder) / stored_name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(data)
        document.stored_name = stored_name
    else:
        document.content = data
    item.documents.append(document)
    db.session.flush()
    return document


def document_bytes(document: AgendaDocument) -> bytes:
    """The PDF's bytes, from the database or from UPLOAD_DIR."""
    if document.stored_name:
        return (Path(current_app.config["UPLOAD_DIR"]) / document.stored_name).read_bytes()
    return document.content or b""


def remove_document(document: AgendaDocument) -> None:
    """Take a document off an item (its file under UPLOAD_DIR stays: another document may
    have the same bytes). Refused for an item that changes the statutes once the meeting
    is convened: its text stays available from then on (art. 2:42 lid 2 BW)."""
    if document.item.changes_statutes and document.item.meeting.convened_at is not None:
        raise Refused(
            _l(
                "The meeting is convened: the documents of an item that changes the "
                "statutes stay available until the meeting (art. 2:42 lid 2 BW)."
            )
        )
    document.item.documents.remove(document)
    db.session.flush()


# --- who may read ---


def may_read(user) -> bool:
    """Whether `user` (maybe anonymous) may read the members' meeting pages and documents:
    active members, and the board that convenes."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_board or is_active_member(user)


def for_members() -> sa.Select:
    """Meetings members see: every one that has been convened, latest first."""
    return (
        sa.select(Meeting)
        .where(Meeting.convened_at.is_not(None))
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    )


# --- the convocation ---


def days_ahead(meeting: Meeting, now: datetime) -> int:
    """Calendar days in Amsterdam from `now`'s day to the meeting's day."""
    zone = local_zone()
    return (meeting.starts_at.astimezone(zone).date() - now.astimezone(zone).date()).days


def notice_needed(meeting: Meeting) -> int:
    """The days of notice this meeting needs: its own period, and 7 when an item changes
    the statutes (art. 2:42), whichever is more."""
    if meeting.changes_statutes:
        return max(meeting.notice_days, STATUTES_NOTICE_DAYS)
    return meeting.notice_days


def check_can_convene(meeting: Meeting, now: datetime | None = None) -> None:
    """Refuses a meeting already convened, one without an agenda, and a convocation
    sent with fewer days' notice than `notice_needed`."""
    now = now or utcnow()
    if meeting.is_convened:
        raise Refused(_l("The convocation of this meeting has already been sent."), "meeting")
    if not meeting.items:
        raise Refused(_l("Please put at least one item on the agenda first."), "meeting")
    needed = notice_needed(meeting)
    if days_ahead(meeting, now) < needed:
        if meeting.changes_statutes and needed == STATUTES_NOTICE_DAYS:
            message = _l(
                "An item changes the statutes: the convocation must go out at least 7 days "
                "before the meeting (art. 2:42 BW)."
            )
        else:
            message = _l(
                "Too late: the convocation must go out at least %(days)s days before the meeting.",
                days=needed,
            )
        raise Refused(message, "meeting")


def email_recipients_query() -> sa.Select:
    """Active members with an account who agreed to official notices by e-mail."""
    return (
        sa.select(Membership)
        .join(Membership.user)
        .where(
            Membership.status == MembershipStatus.ACTIVE,
            Membership.email_notices_consent_at.is_not(None),
        )
        .options(sa.orm.contains_eager(Membership.user))
        .order_by(Membership.number, Membership.id)
    )


@dataclass
class Convocation:
    emailed: int
    letters: int


def convene(meeting: Meeting, text: str, by: User, now: datetime | None = None) -> Convocation:
    """Send the convocation: an e-mail to each member who agreed to it, a place on the
    letter list for every other active member, a record of each; the meeting's event is
    published so members can register. Refusals as in `check_can_convene`; an empty
    text is refused too. Sent once: of two sends at the same moment, one is refused."""
    now = now or utcnow()
    text = (text or "").strip()
    if not text:
        raise Refused(_l("Please write the text of the convocation."), "text")
    check_can_convene(meeting, now)
    claimed = db.session.execute(
        sa.update(Meeting)
        .where(Meeting.id == meeting.id, Meeting.convened_at.is_(None))
        .values(convened_at=now, convened_by_id=by.id, convocation_text=text)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Refused(_l("The convocation of this meeting has already been sent."), "meeting")
    db.session.refresh(meeting)
    meeting.status = MeetingStatus.CONVENED
    meeting.event.status = EventStatus.PUBLISHED
    emailed = db.session.scalars(email_recipients_query()).unique().all()
    link = external_url("meetings.show", slug=meeting.slug)
    for membership in emailed:
        user = membership.user
        queue_mail(
            user.email,
            _l("Convocation: %(title)s", title=meeting.title),
            "meeting_convocation",
            user.locale,
            meeting=meeting,
            name=membership.registered_name or user.name,
            link=link,
        )
        db.session.add(
            ConvocationRecord(
                meeting_id=meeting.id,
                membership_id=membership.id,
                channel=ConvocationChannel.EMAIL,
                email=user.email,
                sent_at=now,
            )
        )
    letters = db.session.scalars(letter_list_query()).all()
    for membership in letters:
        db.session.add(
            ConvocationRecord(
                meeting_id=meeting.id,
                membership_id=membership.id,
                channel=ConvocationChannel.LETTER,
                sent_at=now,
            )
        )
    db.session.flush()
    return Convocation(emailed=len(emailed), letters=len(letters))


def letter_recipients(meeting: Meeting) -> list[Membership]:
    """The members this meeting's convocation goes to by letter: as recorded when it was
    sent, or, before that, the register's letter list now."""
    if not meeting.is_convened:
        return db.session.scalars(letter_list_query()).all()
    return db.session.scalars(
        sa.select(Membership)
        .join(ConvocationRecord, ConvocationRecord.membership_id == Membership.id)
        .where(
            ConvocationRecord.meeting_id == meeting.id,
            ConvocationRecord.channel == ConvocationChannel.LETTER,
        )
        .order_by(Membership.postcode, Membership.number)
    ).all()


def convocation_counts(meeting: Meeting) -> dict[str, int]:
    """How many were called by e-mail and by letter."""
    rows = db.session.execute(
        sa.select(ConvocationRecord.channel, sa.func.count())
        .where(ConvocationRecord.meeting_id == meeting.id)
        .group_by(ConvocationRecord.channel)
    ).all()
    counts = {channel.value: 0 for channel in ConvocationChannel}
    counts.update({channel.value: count for channel, count in rows})
    return counts
