"""A member's part in a general meeting, on its page: registering for the room or
online, saying "I am here" online, giving a proxy (and withdrawing it), and accepting or
declining the proxies given to them.

Active members only: whoever is not logged in is sent to the log-in page; anyone else
logged in (the board too, when not a member) gets 403 with the "members only" page. A
proxy that is not the member's own (to accept or decline: given to them; to withdraw:
given by them) is 404. A refused form comes back on the meeting page with 422 and what
was typed.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.meeting_proxies import AttendForm, ProxyForm
from ..models import AttendanceMode, Meeting, Membership, Proxy, utcnow
from ..services import meeting_attendance, meeting_proxies
from . import meetings as meeting_views
from .going_back import commit_or_go_back, commit_or_show

bp = Blueprint("meeting_proxies", __name__, url_prefix="/meetings")


def member_part(meeting: Meeting, proxy_form=None, attend_form=None) -> dict:
    """What the meeting page shows the visitor of their own part: their registration
    and presence, the proxy they gave, the proxies given to them, and the forms."""
    membership = meeting_attendance.active_membership(current_user)
    if membership is None:
        return {"membership": None}
    attendance = meeting_attendance.attendance_of(meeting, membership)
    given = meeting_proxies.latest_given(meeting, membership)
    held = meeting_proxies.held_by(meeting, membership)
    now = utcnow()
    live_given = given is not None and given.status in meeting_proxies.LIVE
    present = attendance is not None and attendance.present_at is not None
    before_start = now < meeting.starts_at
    return {
        "membership": membership,
        "name_of": meeting_proxies.display_name,
        "attendance": attendance,
        "ticket": meeting_attendance.room_registration(meeting, membership)
        if attendance is not None and attendance.mode == AttendanceMode.ROOM
        else None,
        "given": given,
        "live_given": live_given,
        "held": held,
        "present": present,
        "before_start": before_start,
        "online_open": meeting_attendance.online_open(meeting, now),
        "ended": meeting.is_over(now),
        "may_give": meeting.proxies_allowed
        and before_start
        and not live_given
        and not present
        and not held,
        "proxy_form": proxy_form or ProxyForm(formdata=None),
        "attend_form": attend_form
        or AttendForm(formdata=None, mode=attendance.mode.value if attendance else None),
    }


def _member_meeting(slug: str) -> tuple[Meeting, Membership]:
    """The convened meeting `slug` and the visitor's active register entry: 403 (the
    members-only page) for anyone who is no active member, 404 for no such meeting."""
    membership = meeting_attendance.active_membership(current_user)
    if membership is None:
        abort(meeting_views.members_only_response())
    meeting = db.first_or_404(
        sa.select(Meeting).where(Meeting.slug == slug, Meeting.convened_at.is_not(None))
    )
    return meeting, membership


def _page(meeting: Meeting, anchor: str) -> str:
    return url_for("meetings.show", slug=meeting.slug, _anchor=anchor)


def _show_again(slug: str, **forms):
    """The meeting page again with the errors of the form sent (a refusal put on it),
    422."""
    meeting = meeting_views.meeting_with_agenda(Meeting.slug == slug)
    return meeting_views.render_show(meeting, 422, **forms)


# --- proxies ------------------------------------------------------------------------------


@bp.post("/<slug>/proxy")
@login_required
def give(slug: str):
    """Give a proxy to the member named by number and e-mail address."""
    meeting, membership = _member_meeting(slug)
    form = ProxyForm()
    if form.validate_on_submit():
        given = commit_or_show(
            form,
            lambda: meeting_proxies.give(
                meeting,
                membership,
                meeting_proxies.find_holder(form.number.data, form.email.data),
            ),
            done=_("Your proxy is given. The member you named is asked to accept it."),
            to=_page(meeting, "volmacht"),
            default="number",
        )
        if given:
            return given
    return _show_again(slug, proxy_form=form)


def _proxy(meeting: Meeting, proxy_id: int, *condition) -> Proxy:
    """The proxy `proxy_id` of `meeting` that meets `condition` (given to or by the
    visitor); 404 otherwise."""
    return db.first_or_404(
        sa.select(Proxy).where(Proxy.id == proxy_id, Proxy.meeting_id == meeting.id, *condition)
    )


def _answer(slug: str, proxy_id: int, party, change, done: str):
    """Ask `change(proxy, membership)` of the visitor's proxy `proxy_id` (`party`: the
    column that must name the visitor, grantor or holder; 404 for any other proxy) and go
    back to the proxy part of the meeting's page, saying `done`."""
    meeting, membership = _member_meeting(slug)
    proxy = _proxy(meeting, proxy_id, party == membership.id)
    return commit_or_go_back(
        lambda: change(proxy, membership),
        back=_page(meeting, "volmacht"),
        done=done,
    )


@bp.post("/<slug>/proxies/<int:proxy_id>/withdraw")
@login_required
def withdraw(slug: str, proxy_id: int):
    """The grantor takes back their proxy (until the meeting starts)."""
    return _answer(
        slug,
        proxy_id,
        Proxy.grantor_id,
        meeting_proxies.withdraw,
        _("Your proxy is withdrawn."),
    )


@bp.post("/<slug>/proxies/<int:proxy_id>/accept")
@login_required
def accept(slug: str, proxy_id: int):
    """The holder accepts a proxy given to them."""
    return _answer(
        slug,
        proxy_id,
        Proxy.holder_id,
        meeting_proxies.accept,
        _("You accepted the proxy: you vote for this member at the meeting."),
    )


@bp.post("/<slug>/proxies/<int:proxy_id>/decline")
@login_required
def decline(slug: str, proxy_id: int):
    """The holder declines a proxy given to them."""
    return _answer(
        slug,
        proxy_id,
        Proxy.holder_id,
        meeting_proxies.decline,
        _("You declined the proxy. The member who gave it is told."),
    )


# --- attendance ---------------------------------------------------------------------------


@bp.post("/<slug>/attendance")
@login_required
def attend(slug: str):
    """Register for the room (with a ticket) or online, or change which."""
    meeting, membership = _member_meeting(slug)
    form = AttendForm()
    if form.validate_on_submit():
        mode = AttendanceMode(form.mode.data)
        registered = commit_or_show(
            form,
            lambda: meeting_attendance.register(meeting, membership, mode),
            done=(
                _("You are registered for the room. Your ticket is on its way by e-mail.")
                if mode == AttendanceMode.ROOM
                else _("You are registered to take part online.")
            ),
            to=_page(meeting, "taking-part"),
            default="mode",
        )
        if registered:
            return registered
    return _show_again(slug, attend_form=form)


@bp.post("/<slug>/attendance/cancel")
@login_required
def unattend(slug: str):
    """Take back the registration (and the ticket for the room)."""
    meeting, membership = _member_meeting(slug)
    return commit_or_go_back(
        lambda: meeting_attendance.unregister(meeting, membership),
        back=_page(meeting, "taking-part"),
        done=_("Your registration for the meeting is cancelled."),
    )


@bp.post("/<slug>/arrive")
@login_required
def arrive(slug: str):
    """ "I am here (online)": the member is present at the meeting from now on."""
    meeting, membership = _member_meeting(slug)
    cancelled = db.session.scalar(
        sa.select(sa.func.count(Proxy.id)).where(
            Proxy.meeting_id == meeting.id,
            Proxy.grantor_id == membership.id,
            Proxy.status.in_(meeting_proxies.LIVE),
        )
    )
    done = _("Welcome: you are at the meeting online.")
    if cancelled:
        done += " " + _("Your proxy has ended: you vote yourself.")
    return commit_or_go_back(
        lambda: meeting_attendance.arrive_online(meeting, membership),
        back=_page(meeting, "taking-part"),
        done=done,
    )
