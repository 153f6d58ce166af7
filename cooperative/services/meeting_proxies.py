"""Proxies (volmachten) for a general meeting: a member who cannot come lets another
member vote for them (art. 2:38 lid 3 BW, when the statutes allow it: `Meeting.proxies_allowed`).

Rules:
- A proxy is given to an active member, for one meeting; the holder accepts (or declines).
- At most one live (given or accepted) proxy per grantor and meeting (a partial unique
  index backs this); a holder carries at most `Meeting.max_proxies_per_member`.
- No chains: a member who gave a proxy cannot hold one, and a holder cannot give one.
- The grantor may withdraw it until the meeting starts; coming to the meeting or voting
  online cancels it (`cancel_given`).

Services flush; the caller commits.
"""

from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Meeting, Membership, Proxy, ProxyStatus, utcnow

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
