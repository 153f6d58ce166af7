"""The minutes (notulen) of a general meeting: written by the secretary in Markdown,
approved, then published to the members.

Rules:
- The minutes can be written once the meeting has started (not before).
- Saving records who saved and when. Changing the text of approved minutes undoes the
  approval: what was approved is no longer the text (the board approves it again).
- Approval is a board action with the day it was approved typed in (the statutes have
  the next meeting or the board approve the minutes; the board records either): not
  before the meeting's day, not in the future, and only of saved, non-empty minutes.
- Publishing needs approved minutes of a convened meeting. Published minutes are locked:
  saving, filling in and approving are refused until the board withdraws the publication
  (`unpublish`), which takes them from the members' pages again.
- Markdown is rendered safely (`render`): raw HTML is shown as text, and links other
  than http(s), mailto and relative ones (`javascript:`, `data:`, ...) are not made.

The draft the secretary can fill in from the meeting's rows is in `meeting_minutes_draft`.
Services flush; the caller commits.
"""

from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt
from markupsafe import Markup

from ..extensions import db
from ..i18n import local_zone
from ..locking import lock_meeting
from ..models import Meeting, User, utcnow
from ..refusals import Refused

# "js-default": no raw HTML (it is escaped), links validated (no javascript: or data:).
_MARKDOWN = MarkdownIt("js-default")
TEXT_MAX_LENGTH = 100_000


def has_started(meeting: Meeting, now: datetime | None = None) -> bool:
    """Whether the meeting has started, so its minutes may be written."""
    return meeting.starts_at <= (now or utcnow())


def is_locked(meeting: Meeting) -> bool:
    """Whether the minutes are published, and so may not change."""
    return meeting.minutes_published_at is not None


def _refuse_unless_writable(meeting: Meeting, now: datetime | None, field: str = "text") -> None:
    if not has_started(meeting, now):
        raise Refused(_l("The minutes can be written once the meeting has started."), field)
    if is_locked(meeting):
        raise Refused(
            _l(
                "The minutes are published and cannot change. "
                "Withdraw the publication first to change them."
            ),
            field,
        )


def check_writable(meeting: Meeting, now: datetime | None = None) -> None:
    """Refuses (on `text`) before the meeting starts and once the minutes are published."""
    _refuse_unless_writable(meeting, now)


def _hold(meeting: Meeting) -> None:
    """Hold the meeting's row (`locking.lock_meeting`) and read it again: a save and a
    publish at the same moment happen one after the other, each seeing the other's."""
    lock_meeting(meeting)
    db.session.refresh(meeting)


def save(meeting: Meeting, text: str, by: User, now: datetime | None = None) -> bool:
    """Save the minutes' text, recording who and when. Answers whether the approval was
    undone (approved minutes whose text changed). The same text again changes nothing.

    Refuses before the meeting starts and once published.
    """
    now = now or utcnow()
    _hold(meeting)
    _refuse_unless_writable(meeting, now)
    text = text.strip()
    if text == (meeting.minutes_text or ""):
        return False
    meeting.minutes_text = text
    meeting.minutes_updated_at = now
    meeting.minutes_updated_by_id = by.id
    unapproved = meeting.minutes_approved_at is not None
    meeting.minutes_approved_at = None
    db.session.flush()
    return unapproved


def approval_moment(day: date) -> datetime:
    """The day of approval as a moment: noon in Amsterdam (shown as that day)."""
    return datetime.combine(day, time(12), tzinfo=local_zone())


def approve(meeting: Meeting, day: date, now: datetime | None = None) -> None:
    """Record that the minutes were approved on `day`.

    Refuses minutes not saved yet (or empty), a day before the meeting's day or after
    today (in Amsterdam), and published minutes.
    """
    now = now or utcnow()
    _hold(meeting)
    _refuse_unless_writable(meeting, now, "approved_on")
    if not (meeting.minutes_text or "").strip():
        raise Refused(_l("Write and save the minutes before they are approved."), "approved_on")
    zone = local_zone()
    if day < meeting.starts_at.astimezone(zone).date():
        raise Refused(
            _l("The minutes cannot be approved before the day of the meeting."), "approved_on"
        )
    if day > now.astimezone(zone).date():
        raise Refused(_l("The day of approval cannot be in the future."), "approved_on")
    meeting.minutes_approved_at = approval_moment(day)
    db.session.flush()


def publish(meeting: Meeting, now: datetime | None = None) -> bool:
    """Publish the approved minutes to the members; answers False when they were
    published already. Refuses minutes not approved and a meeting never convened."""
    _hold(meeting)
    if meeting.minutes_published_at is not None:
        return False
    if meeting.minutes_approved_at is None:
        raise Refused(_l("The minutes can be published once they are approved."), "minutes")
    if not meeting.is_convened:
        raise Refused(_l("The meeting was never convened: its minutes are not published."))
    meeting.minutes_published_at = now or utcnow()
    db.session.flush()
    return True


def unpublish(meeting: Meeting) -> bool:
    """Take the minutes from the members' pages, so they may be changed; they stay
    approved (a change undoes that). Answers False when they were not published."""
    _hold(meeting)
    if meeting.minutes_published_at is None:
        return False
    meeting.minutes_published_at = None
    db.session.flush()
    return True


# --- showing them ---


def render(text: str, top_level: int = 2) -> Markup:
    """The Markdown `text` as safe HTML: raw HTML escaped, unsafe links left as text. Its
    headings move so the largest becomes `<h{top_level}>` (the page has its own `<h1>`),
    keeping their order; none goes below `<h6>`."""
    tokens = _MARKDOWN.parse(text or "")
    levels = [int(token.tag[1]) for token in tokens if token.type == "heading_open"]
    if levels:
        shift = top_level - min(levels)
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(6, max(1, int(token.tag[1]) + shift))}"
    html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    return Markup(html)  # noqa: S704 - markdown-it escapes raw HTML ("js-default")
