"""The votes of a general meeting: one or more per agenda item, open or secret.

An open vote keeps each member's ballot with the member (`OpenBallot`), so members can see
how each voted. A secret vote keeps *who voted* (`SecretVoter`) and *the anonymous
ballot* (`SecretBallot`) in two tables with no key, no time and no order between them:
the ballot's id is random, it has no timestamp, and both are written in the one
transaction that casts the vote. Nobody can tell later how a member voted.

A ballot is cast for a member (`membership_id`): by the member, or by the holder of their
proxy (`cast_by_id`). Its weight is the member's number of votes when it was cast (see
`Meeting.vote_weighting`). When the chair closes the vote its result is kept as it was
(`Vote.result`), so it stands when members come and go later.
"""

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import StrEnumType, UTCDateTime, by_account, utcnow


class VoteKind(enum.StrEnum):
    OPEN = "open"
    SECRET = "secret"  # noqa: S105 - a kind of vote, not a password


class VoteQuestion(enum.StrEnum):
    PROPOSAL = "proposal"  # for / against / abstain
    ELECTION = "election"  # a choice between candidates (or abstain)


class VoteStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Majority(enum.StrEnum):
    """What share of the votes for and against a proposal needs (abstentions not counted)."""

    SIMPLE = "simple"  # more than half
    TWO_THIRDS = "two_thirds"  # at least two thirds


class OptionMeaning(enum.StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
    CANDIDATE = "candidate"


class Vote(db.Model):
    """A question put to the members under an agenda item.

    `result` (JSON, set when closed): {"eligible": members who could vote,
    "eligible_weight", "voters": members who voted, "weight": their votes,
    "options": [{"id", "meaning", "label", "count", "weight"}], "quorum_percent",
    "quorum_met", "present": members present or represented, "majority", "passed"
    (for a proposal; for an election the option ids with the most votes in "elected")}.
    """

    __tablename__ = "meeting_votes"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agenda_item_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    kind: so.Mapped[VoteKind] = so.mapped_column(StrEnumType(VoteKind))
    question: so.Mapped[VoteQuestion] = so.mapped_column(
        StrEnumType(VoteQuestion), default=VoteQuestion.PROPOSAL
    )
    majority: so.Mapped[Majority] = so.mapped_column(StrEnumType(Majority), default=Majority.SIMPLE)
    status: so.Mapped[VoteStatus] = so.mapped_column(
        StrEnumType(VoteStatus), default=VoteStatus.DRAFT
    )
    opened_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    opened_by_id: so.Mapped[int | None] = by_account()
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    closed_by_id: so.Mapped[int | None] = by_account()
    result: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    item: so.Mapped["AgendaItem"] = so.relationship()  # noqa: F821
    options: so.Mapped[list["VoteOption"]] = so.relationship(
        back_populates="vote", cascade="all, delete-orphan", order_by="VoteOption.position"
    )


class VoteOption(db.Model):
    """One answer a member can give: for, against, abstain, or a candidate."""

    __tablename__ = "meeting_vote_options"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    vote_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("meeting_votes.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int] = so.mapped_column(default=0)
    meaning: so.Mapped[OptionMeaning] = so.mapped_column(StrEnumType(OptionMeaning))
    label: so.Mapped[str] = so.mapped_column(sa.String(200), default="")

    vote: so.Mapped[Vote] = so.relationship(back_populates="options")


class _Cast:
    """The columns that say a member's vote was cast: for whom, by whom, how and when."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    vote_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("meeting_votes.id", ondelete="CASCADE"), index=True
    )
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )
    cast_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="SET NULL")
    )
    online: so.Mapped[bool] = so.mapped_column(default=False)
    cast_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class OpenBallot(_Cast, db.Model):
    """A member's ballot in an open vote: who, what, how many votes, and who cast it."""

    __tablename__ = "meeting_open_ballots"
    __table_args__ = (
        sa.UniqueConstraint("vote_id", "membership_id", name="uq_open_ballot_member"),
        {"info": NOT_ON_PUBLIC_PAGES},
    )

    option_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("meeting_vote_options.id", ondelete="CASCADE")
    )
    weight: so.Mapped[int] = so.mapped_column(default=1)


class SecretVoter(_Cast, db.Model):
    """That a member voted in a secret vote (not how): one per member and vote."""

    __tablename__ = "meeting_secret_voters"
    __table_args__ = (
        sa.UniqueConstraint("vote_id", "membership_id", name="uq_secret_voter_member"),
        {"info": NOT_ON_PUBLIC_PAGES},
    )


def _random_id() -> str:
    return uuid.uuid4().hex


class SecretBallot(db.Model):
    """An anonymous ballot: its vote, its answer and its weight, and nothing else. The id
    is random, so the order ballots were cast in cannot be read from it."""

    __tablename__ = "meeting_secret_ballots"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True, default=_random_id)
    vote_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("meeting_votes.id", ondelete="CASCADE"), index=True
    )
    option_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("meeting_vote_options.id", ondelete="CASCADE")
    )
    weight: so.Mapped[int] = so.mapped_column(default=1)
