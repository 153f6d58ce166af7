"""Forms of the general meeting's back office: the meeting, an agenda item,
a document, and the convocation."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, Length, NumberRange, Optional

from ..models import Meeting, VoteWeighting
from ..services.meetings import SLUG_MAX_LENGTH, MeetingPlan
from .events import amsterdam_time
from .fields import WholeNumberField, ends_after, optional_text, required_text, slug_field, strip


class MeetingForm(FlaskForm):
    """A general meeting: when, where, and what the statutes say about it."""

    title = required_text(_l("Title"), _l("Please give the meeting a title."), 200)
    slug = slug_field(
        SLUG_MAX_LENGTH,
        _l("Only lower-case letters, digits and single hyphens, e.g. alv-juni-2027."),
    )
    starts_at = amsterdam_time(_l("Starts"), required=True)
    ends_at = amsterdam_time(_l("Ends"), required=True)
    location = optional_text(_l("Location (address)"), 300)
    online_url = StringField(
        _l("Online link (for a hybrid meeting)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=500),
            URL(message=_l("Please write a web address (https://...).")),
        ],
    )
    notice_days = WholeNumberField(
        _l("Notice period in days"),
        description=_l("How many days before the meeting the convocation must go out."),
        validators=[NumberRange(1, 365, _l("Please write a number from 1 to 365."))],
    )
    proxies_allowed = BooleanField(_l("Members may vote by proxy"))
    max_proxies_per_member = WholeNumberField(
        _l("Proxies one member may carry"),
        validators=[NumberRange(0, 50, _l("Please write a number from 0 to 50."))],
    )
    online_voting = BooleanField(_l("Members may vote online before and during the meeting"))
    vote_weighting = RadioField(
        _l("Votes per member"),
        choices=[
            SelectChoice(VoteWeighting.PER_MEMBER.value, _l("One member, one vote")),
            SelectChoice(
                VoteWeighting.PER_SHARE.value, _l("One vote per paid share (at least one)")
            ),
        ],
        default=VoteWeighting.PER_MEMBER.value,
        description=_l("As the statutes say (art. 2:38 BW: every member has at least one vote)."),
    )
    quorum_rules = TextAreaField(
        _l("Quorum rules of the statutes (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=5000)],
    )
    quorum_percent = WholeNumberField(
        _l("Quorum for ordinary decisions, percent of members (optional)"),
        validators=[Optional(), NumberRange(1, 100, _l("Please write a number from 1 to 100."))],
    )
    statutes_quorum_percent = WholeNumberField(
        _l("Quorum for a change of the statutes, percent of members (optional)"),
        validators=[Optional(), NumberRange(1, 100, _l("Please write a number from 1 to 100."))],
    )

    @classmethod
    def for_meeting(cls, meeting: Meeting) -> "MeetingForm":
        return cls(formdata=None, obj=meeting)

    validate_ends_at = ends_after("starts_at", _l("The meeting must end after it starts."))

    def plan(self) -> MeetingPlan:
        return MeetingPlan(
            title=self.title.data,
            slug=self.slug.data or "",
            starts_at=self.starts_at.data,
            ends_at=self.ends_at.data,
            location=self.location.data or "",
            online_url=self.online_url.data or "",
            notice_days=self.notice_days.data,
            proxies_allowed=self.proxies_allowed.data,
            max_proxies_per_member=self.max_proxies_per_member.data,
            online_voting=self.online_voting.data,
            vote_weighting=VoteWeighting(self.vote_weighting.data),
            quorum_rules=self.quorum_rules.data or "",
            quorum_percent=self.quorum_percent.data,
            statutes_quorum_percent=self.statutes_quorum_percent.data,
        )


class AgendaItemForm(FlaskForm):
    """A point of the agenda."""

    title_nl = required_text(_l("Title in Dutch"), _l("Please give the item a title."), 200)
    title_en = optional_text(_l("Title in English (optional)"), 200)
    description = TextAreaField(
        _l("Explanation (optional)"), filters=[strip], validators=[Optional(), Length(max=5000)]
    )
    has_vote = BooleanField(_l("The members vote on this item"))
    changes_statutes = BooleanField(_l("This item proposes to change the statutes"))


class DocumentForm(FlaskForm):
    """A PDF for an agenda item."""

    file = FileField(_l("PDF document"), validators=[FileRequired(_l("Please choose a PDF file."))])


class ConvocationForm(FlaskForm):
    """The text of the convocation; previewed before it is sent."""

    text = TextAreaField(
        _l("Text of the convocation"),
        filters=[strip],
        description=_l("The agenda, date, place and the link to the documents are added below it."),
        validators=[Length(max=10000)],
    )
    send = BooleanField(_l("Send the convocation now"))
