"""Forms of the general meeting's votes: the chair's new vote, and a member's ballot
(their own answer, and one for each member whose proxy they carry)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, StopValidation

from ..models import Majority, Membership, Vote, VoteKind, VoteQuestion
from ..services.meeting_votes import LABEL_MAX_LENGTH, TITLE_MAX_LENGTH, option_label
from ..services.shares import holder_name
from .fields import optional_text, strip

MODE_SAME = "same"
MODE_EACH = "each"


class VoteForm(FlaskForm):
    """A vote the chair puts to an agenda item."""

    title = optional_text(_l("Title (the item's title if empty)"), TITLE_MAX_LENGTH)
    kind = RadioField(
        _l("How members vote"),
        choices=[
            SelectChoice(VoteKind.OPEN.value, _l("Open: members see afterwards how each voted")),
            SelectChoice(VoteKind.SECRET.value, _l("Secret: nobody can see how anyone voted")),
        ],
        default=VoteKind.OPEN.value,
        validators=[InputRequired(_l("Please choose an open or a secret vote."))],
    )
    question = RadioField(
        _l("The question"),
        choices=[
            SelectChoice(VoteQuestion.PROPOSAL.value, _l("A proposal: for, against or abstain")),
            SelectChoice(VoteQuestion.ELECTION.value, _l("An election between candidates")),
        ],
        default=VoteQuestion.PROPOSAL.value,
        validators=[InputRequired(_l("Please choose a proposal or an election."))],
    )
    candidates = TextAreaField(
        _l("Candidates (for an election)"),
        description=_l("One name per line. Members may also abstain."),
        filters=[strip],
        validators=[Optional(), Length(max=(LABEL_MAX_LENGTH + 2) * 50)],
    )
    majority = RadioField(
        _l("Majority a proposal needs"),
        choices=[
            SelectChoice(Majority.SIMPLE.value, _l("Simple: more than half")),
            SelectChoice(Majority.TWO_THIRDS.value, _l("Two thirds or more")),
        ],
        description=_l("Of the votes for and against; abstentions do not count."),
        validators=[InputRequired(_l("Please choose the majority."))],
    )


class AnswerField(RadioField):
    """One answer of a vote, as radio buttons: none, or one not offered, is refused with
    a clear message (not WTForms' own)."""

    def pre_validate(self, form) -> None:
        if not form.asks(self):
            self.data = None
            raise StopValidation()
        if not self.data:
            raise StopValidation(_l("Please choose an answer."))
        if self.data not in {choice.value for choice in self.choices}:
            raise StopValidation(_l("Please choose one of the answers given."))


class BallotForm(FlaskForm):
    """A member's ballot; its fields are added by `ballot_form`."""

    member_fields: tuple[str, ...] = ()

    def asks(self, field) -> bool:
        """Whether `field` counts: with "the same for everyone" the answers per member
        are not asked."""
        same = "proxy_mode" in self and self["proxy_mode"].data == MODE_SAME
        return not (same and field.name in self.member_fields)


def ballot_form(vote: Vote, own: bool, represented: list[Membership]) -> BallotForm:
    """The ballot for a voter: `choice` when they vote themselves, and for the members
    they represent `for_<member id>` each, with `proxy_mode` (the same as their own
    answer, or one each) when they vote themselves too. `proxy_mode` has no default: a
    holder who filled in the answers per member must not cast their own for all by
    forgetting to say so."""
    answers = [SelectChoice(str(option.id), option_label(option)) for option in vote.options]

    class Ballot(BallotForm):
        pass

    if own:
        Ballot.choice = AnswerField(_l("Your vote"), choices=answers)
    if own and represented:
        Ballot.proxy_mode = RadioField(
            _l("For the members you represent"),
            choices=[
                SelectChoice(MODE_SAME, _l("The same as my own vote, for everyone I represent")),
                SelectChoice(MODE_EACH, _l("A choice for each member (below)")),
            ],
            validators=[InputRequired(_l("Please choose how you vote for them."))],
        )
    for member in represented:
        label = _l("For %(name)s", name=holder_name(member))
        setattr(Ballot, f"for_{member.id}", AnswerField(label, choices=answers))
    Ballot.member_fields = tuple(f"for_{member.id}" for member in represented)
    return Ballot()


def choices_of(form: BallotForm, voter: Membership, represented: list[Membership]) -> dict:
    """What a valid ballot casts: member id → option id."""
    choices = {}
    if "choice" in form:
        choices[voter.id] = int(form.choice.data)
    same = "proxy_mode" in form and form.proxy_mode.data == MODE_SAME
    for member in represented:
        answer = form.choice.data if same else form[f"for_{member.id}"].data
        choices[member.id] = int(answer)
    return choices
