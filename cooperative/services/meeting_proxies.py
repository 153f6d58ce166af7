"""Proxies (volmachten) for a general meeting: a member who cannot come lets another
member vote for them (art. 2:38 lid 3 BW, when the statutes allow it: `Meeting.proxies_allowed`).

Rules:
- A proxy is given to an active member, for one meeting, from the convocation until the
  meeting starts; the holder accepts (or declines). The board records a proxy given on
  paper (`record_paper`): accepted at once, and possible until the meeting ends (paper
  proxies are often handed in at the door).
- The grantor names the holder by member number and the e-mail address of their account
  (`find_holder`): both must match, and a mismatch does not say which part was wrong, so
  nobody can look up who is a member.
- At most one live (given or accepted) proxy per grantor and meeting (a partial unique
  index backs this); a holder carries at most `Meeting.max_proxies_per_member` live ones.
- No chains: a member who gave a live proxy cannot hold one, and a holder cannot give one.
- A grantor who is present already cannot give one.
- The grantor may withdraw it until the meeting starts; coming to the meeting or voting
  online cancels it (`cancel_given`); that stays so when a check-in is undone.

Every change locks the meeting's row (`locking.lock_meeting`) before it counts, so two
proxies given at once to the same holder never pass the limit together.

Services flush; the caller commits.
"""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..locking import lock_meeting
from ..models import (
    Meeting,
    MeetingAttendance,
    Membership,
    MembershipStatus,
    Proxy,
    ProxyStatus,
    User,
    normalise_email,
    utcnow,
)
from ..refusals import Refused
from .mail import external_url, queue_member_mail
from .shares import holder_name

LIVE = (ProxyStatus.GIVEN, ProxyStatus.ACCEPTED)


def represented_by(meeting: Meeting, holder: Membership) -> list[Membership]:
    """The members whose accepted proxy `holder` carries at `meeting`, by member number."""
    return db.session.scalars(
        sa.select(Membership)
        .join(Proxy, Proxy.grantor_id == Membership.id)
        .where(
            Proxy.meeting_id == meeting.id,
            Proxy.holder_id == holder.id,
            Proxy.status == ProxyStatus.ACCEPTED,
        )
        .order_by(Membership.number, Membership.id)
    ).all()


def cancel_given(meeting: Meeting, membership: Membership, now: datetime | None = None) -> bool:
    """Cancel the live proxy `membership` gave for `meeting`, if any (they came, or voted
    online, after all). Returns whether there was one."""
    cancelled = db.session.execute(
        sa.update(Proxy)
        .where(
            Proxy.meeting_id == meeting.id,
            Proxy.grantor_id == membership.id,
            Proxy.status.in_(LIVE),
        )
        .values(status=ProxyStatus.CANCELLED, ended_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    ).rowcount
    return cancelled > 0


# --- finding the people -------------------------------------------------------------------

NO_SUCH_HOLDER = _l(
    "No active member has this member number together with this e-mail address. "
    "Please check both with the member you want to give your proxy to."
)


def find_holder(number: int | None, email: str) -> Membership:
    """The active member with member number `number` whose account has the address
    `email`. Refuses (on `number`) when either does not match, without saying which."""
    found = None
    if number is not None and email:
        found = db.session.scalar(
            sa.select(Membership)
            .join(Membership.user)
            .where(
                Membership.number == number,
                Membership.status == MembershipStatus.ACTIVE,
                User.email == normalise_email(email),
            )
        )
    if found is None:
        raise Refused(NO_SUCH_HOLDER, "number")
    return found


def member_by_number(number: int | None, field: str) -> Membership:
    """The active member with this member number (the board's paper form). Refuses (on
    `field`) a number no active member has."""
    found = None
    if number is not None:
        found = db.session.scalar(
            sa.select(Membership).where(
                Membership.number == number, Membership.status == MembershipStatus.ACTIVE
            )
        )
    if found is None:
        raise Refused(_l("No active member has member number %(number)s.", number=number), field)
    return found


def live_proxy_of(meeting: Meeting, grantor: Membership) -> Proxy | None:
    """The given or accepted proxy `grantor` gave for `meeting`, if any."""
    return db.session.scalar(
        sa.select(Proxy)
        .where(
            Proxy.meeting_id == meeting.id,
            Proxy.grantor_id == grantor.id,
            Proxy.status.in_(LIVE),
        )
        .options(sa.orm.joinedload(Proxy.holder))
    )


def latest_given(meeting: Meeting, grantor: Membership) -> Proxy | None:
    """The proxy `grantor` gave last for `meeting` (live or not), to show its state."""
    return db.session.scalar(
        sa.select(Proxy)
        .where(Proxy.meeting_id == meeting.id, Proxy.grantor_id == grantor.id)
        .options(sa.orm.joinedload(Proxy.holder))
        .order_by(Proxy.id.desc())
        .limit(1)
    )


def held_by(meeting: Meeting, holder: Membership) -> list[Proxy]:
    """The live proxies given to `holder` for `meeting`, oldest first."""
    return db.session.scalars(
        sa.select(Proxy)
        .where(
            Proxy.meeting_id == meeting.id,
            Proxy.holder_id == holder.id,
            Proxy.status.in_(LIVE),
        )
        .options(sa.orm.joinedload(Proxy.grantor))
        .order_by(Proxy.id)
    ).all()


def all_proxies(meeting: Meeting) -> list[Proxy]:
    """Every proxy of `meeting`, with grantor and holder, by grantor's number (one query)."""
    grantor = sa.orm.aliased(Membership)
    return db.session.scalars(
        sa.select(Proxy)
        .join(grantor, Proxy.grantor_id == grantor.id)
        .where(Proxy.meeting_id == meeting.id)
        .options(sa.orm.joinedload(Proxy.grantor), sa.orm.joinedload(Proxy.holder))
        .order_by(grantor.number, Proxy.id)
    ).all()


# --- the rules ----------------------------------------------------------------------------


def _count_live(meeting: Meeting, column, membership: Membership) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Proxy.id)).where(
            Proxy.meeting_id == meeting.id, column == membership.id, Proxy.status.in_(LIVE)
        )
    )


def _check_before_start(meeting: Meeting, now: datetime) -> None:
    if not meeting.is_convened:
        raise Refused(_l("This meeting has not been convened yet."), "meeting")
    if now >= meeting.starts_at:
        raise Refused(
            _l("The meeting has started: proxies can no longer be given or withdrawn."),
            "meeting",
        )


def _check_may_grant(
    meeting: Meeting, grantor: Membership, holder: Membership, now: datetime, *, paper: bool
) -> None:
    """Everything `give` and `record_paper` refuse (see the module); on `paper` until
    the meeting ends, else until it starts."""
    if not meeting.proxies_allowed:
        raise Refused(_l("The statutes do not allow voting by proxy at this meeting."), "meeting")
    if not paper:
        _check_before_start(meeting, now)
    elif not meeting.is_convened:
        raise Refused(_l("This meeting has not been convened yet."), "meeting")
    elif meeting.is_over(now):
        raise Refused(_l("This meeting is over."), "meeting")
    if grantor.status != MembershipStatus.ACTIVE:
        raise Refused(_l("Only active members can give a proxy."), "meeting")
    if holder.status != MembershipStatus.ACTIVE:
        raise Refused(_l("A proxy can only be given to an active member."), "number")
    if holder.id == grantor.id:
        raise Refused(_l("You cannot give a proxy to yourself."), "number")
    if _count_live(meeting, Proxy.grantor_id, grantor):
        raise Refused(
            _l("There is a proxy from this member already: withdraw it first to give another."),
            "number",
        )
    if _count_live(meeting, Proxy.holder_id, grantor):
        raise Refused(
            _l("Whoever holds a proxy cannot pass on their own vote by proxy (no chains)."),
            "number",
        )
    if _count_live(meeting, Proxy.grantor_id, holder):
        raise Refused(
            _l("This member gave a proxy to someone else: they cannot hold one (no chains)."),
            "number",
        )
    if _count_live(meeting, Proxy.holder_id, holder) >= meeting.max_proxies_per_member:
        raise Refused(
            _l(
                "This member carries the most proxies allowed already (%(count)s).",
                count=meeting.max_proxies_per_member,
            ),
            "number",
        )
    present = db.session.scalar(
        sa.select(MeetingAttendance.id).where(
            MeetingAttendance.meeting_id == meeting.id,
            MeetingAttendance.membership_id == grantor.id,
            MeetingAttendance.present_at.is_not(None),
        )
    )
    if present is not None:
        raise Refused(_l("This member is at the meeting already and votes in person."), "meeting")


def _meeting_link(meeting: Meeting) -> str:
    return external_url("meetings.show", slug=meeting.slug) + "#volmacht"


def _mail(membership: Membership, subject, template: str, proxy: Proxy, meeting: Meeting) -> None:
    """E-mail `membership` about `proxy` (`queue_member_mail`)."""
    queue_member_mail(
        membership,
        subject,
        template,
        meeting=meeting,
        proxy=proxy,
        grantor_name=display_name(proxy.grantor),
        holder_name=display_name(proxy.holder),
        name=display_name(membership),
        link=_meeting_link(meeting),
    )


def display_name(membership: Membership) -> str:
    """How a member is named on a proxy: as the register names them (`shares.holder_name`:
    a legal person by its own name), else by their number."""
    return holder_name(membership) or f"#{membership.number}"


def give(
    meeting: Meeting, grantor: Membership, holder: Membership, now: datetime | None = None
) -> Proxy:
    """`grantor` gives `holder` a proxy for `meeting`; the holder is e-mailed to accept it.

    With the meeting locked, refuses: proxies not allowed, a meeting not convened or
    started already, a grantor or holder who is no active member, a proxy to yourself, a
    second live proxy from the grantor, a holder who carries the most proxies allowed, a
    chain (the grantor holds a live proxy, or the holder gave one), and a grantor who is
    present already.
    """
    now = now or utcnow()
    proxy = _grant(meeting, grantor, holder, now, paper=False, status=ProxyStatus.GIVEN)
    _mail(holder, _l("A proxy for you to accept"), "meeting_proxy_given", proxy, meeting)
    return proxy


def record_paper(
    meeting: Meeting, grantor: Membership, holder: Membership, by: User, now: datetime | None = None
) -> Proxy:
    """The board records a proxy given on paper: accepted at once (the holder signed it
    or hands it in). The rules of `give`, but possible until the meeting ends."""
    now = now or utcnow()
    return _grant(
        meeting,
        grantor,
        holder,
        now,
        paper=True,
        status=ProxyStatus.ACCEPTED,
        accepted_at=now,
        recorded_by_id=by.id,
    )


def _grant(
    meeting: Meeting, grantor: Membership, holder: Membership, now: datetime, paper: bool, **proxy
) -> Proxy:
    """With the meeting locked, check that `grantor` may give `holder` a proxy (online, or
    on `paper`) and add it, given at `now`, with the `proxy` fields given."""
    lock_meeting(meeting)
    _check_may_grant(meeting, grantor, holder, now, paper=paper)
    added = Proxy(meeting_id=meeting.id, grantor=grantor, holder=holder, given_at=now, **proxy)
    db.session.add(added)
    db.session.flush()
    return added


def _refresh_locked(proxy: Proxy) -> Meeting:
    """Lock the proxy's meeting and read the proxy afresh under the lock."""
    meeting = db.session.get(Meeting, proxy.meeting_id)
    lock_meeting(meeting)
    db.session.refresh(proxy)
    return meeting


def accept(proxy: Proxy, by: Membership, now: datetime | None = None) -> Proxy:
    """The holder `by` accepts a given proxy; the grantor is e-mailed. Refuses someone
    else, a proxy no longer waiting (withdrawn, declined, cancelled, accepted already),
    and a meeting that is over."""
    now = now or utcnow()
    meeting = _refresh_locked(proxy)
    if proxy.holder_id != by.id:
        raise Refused(_l("This proxy was not given to you."), "proxy")
    if proxy.status != ProxyStatus.GIVEN:
        raise Refused(_l("This proxy is no longer waiting for an answer."), "proxy")
    if meeting.is_over(now):
        raise Refused(_l("This meeting is over."), "proxy")
    proxy.status = ProxyStatus.ACCEPTED
    proxy.accepted_at = now
    db.session.flush()
    _mail(proxy.grantor, _l("Your proxy is accepted"), "meeting_proxy_accepted", proxy, meeting)
    return proxy


def decline(proxy: Proxy, by: Membership, now: datetime | None = None) -> Proxy:
    """The holder `by` declines a proxy (one waiting, or one accepted before the meeting
    starts); the grantor is e-mailed, and may give another. Refuses someone else, a proxy
    that is not live, and an accepted one once the meeting has started."""
    now = now or utcnow()
    meeting = _refresh_locked(proxy)
    if proxy.holder_id != by.id:
        raise Refused(_l("This proxy was not given to you."), "proxy")
    if proxy.status not in LIVE:
        raise Refused(_l("This proxy is no longer waiting for an answer."), "proxy")
    if proxy.status == ProxyStatus.ACCEPTED and now >= meeting.starts_at:
        raise Refused(
            _l("The meeting has started: an accepted proxy can no longer be declined."), "proxy"
        )
    proxy.status = ProxyStatus.DECLINED
    proxy.ended_at = now
    db.session.flush()
    _mail(proxy.grantor, _l("Your proxy is declined"), "meeting_proxy_declined", proxy, meeting)
    return proxy


def withdraw(proxy: Proxy, by: Membership, now: datetime | None = None) -> Proxy:
    """The grantor `by` takes back their proxy until the meeting starts. Refuses someone
    else, a proxy that is not live, and a meeting that has started."""
    now = now or utcnow()
    meeting = _refresh_locked(proxy)
    if proxy.grantor_id != by.id:
        raise Refused(_l("This is not your proxy."), "proxy")
    if proxy.status not in LIVE:
        raise Refused(_l("This proxy is not in force: there is nothing to withdraw."), "proxy")
    _check_before_start(meeting, now)
    proxy.status = ProxyStatus.WITHDRAWN
    proxy.ended_at = now
    db.session.flush()
    return proxy
