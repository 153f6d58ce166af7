"""Questions (vraagstukken) and the koppels formed from them, the Publiek-Civiele route's
way in: a municipal department or a collective posts what it wants to work on, by
domain; others respond that they want to work on it too; programme staff pick the asker
and some of the respondents and form a koppel (a draft `Collaboration`) of them.

Who acts for which organisation is `services.partners`' rule. Hidden questions are for
programme staff only; a question takes responses only while it is open.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..locking import lock_question
from ..models import (
    Collaboration,
    CollaborationKind,
    CollaborationParty,
    CollaborationStatus,
    Domain,
    Organisation,
    Question,
    QuestionResponse,
    QuestionStatus,
    User,
)
from ..paging import one_page
from ..refusals import Refused
from ..slugs import free_slug
from . import partners
from .event_list import ListFilters
from .mail import external_url, queue_mail

PAGE_SIZE = 20
PAGE_MAX = 1000
COLLABORATION_SLUG_MAX = 80


@dataclass(frozen=True)
class QuestionFilters(ListFilters):
    """`?domain=&status=`: a domain's slug and a status; empty means any."""

    domain: str = ""
    status: str = ""
    page: int = 1


def _with_what_a_list_shows(query: sa.Select) -> sa.Select:
    return query.options(
        sa.orm.joinedload(Question.organisation).joinedload(Organisation.collective),
        sa.orm.joinedload(Question.organisation).joinedload(Organisation.parent),
        sa.orm.selectinload(Question.domains),
        sa.orm.selectinload(Question.responses),
    )


def _matching(filters: QuestionFilters) -> sa.Select:
    query = sa.select(Question).where(Question.is_hidden.is_(False))
    if filters.domain:
        query = query.where(Question.domains.any(Domain.slug == filters.domain))
    if filters.status:
        # A status that is not one gives an empty list, never an error.
        known = known_status(filters.status)
        query = query.where(Question.status == filters.status if known else sa.false())
    return query


def find_questions(filters: QuestionFilters) -> tuple[list[Question], bool]:
    """The public questions matching `filters`, newest first, the page `filters.page`
    asks for, and whether there is a next page. A fixed number of queries."""
    query = _with_what_a_list_shows(_matching(filters)).order_by(
        Question.created_at.desc(), Question.id.desc()
    )
    return one_page(query, filters.page, PAGE_SIZE)


def known_status(value: str) -> bool:
    return value in {status.value for status in QuestionStatus}


def visible_question(question_id: int, user: User) -> Question | None:
    """The question with this id as `user` may see it: a hidden one only for programme
    staff; None when there is none to see. With what its page shows (who asked, its
    domains, who responded), in a fixed number of queries."""
    question = db.session.scalar(
        sa.select(Question)
        .where(Question.id == question_id)
        .options(
            sa.orm.joinedload(Question.organisation).joinedload(Organisation.collective),
            sa.orm.joinedload(Question.organisation).joinedload(Organisation.parent),
            sa.orm.selectinload(Question.domains),
            sa.orm.selectinload(Question.responses)
            .joinedload(QuestionResponse.organisation)
            .options(
                sa.orm.joinedload(Organisation.collective),
                sa.orm.joinedload(Organisation.parent),
            ),
        )
    )
    if question is None:
        return None
    if question.is_hidden and not (user.is_authenticated and user.runs_programme):
        return None
    return question


def organisations_of(user: User) -> list[Organisation]:
    """The organisations `user` acts for, by name."""
    ids = partners.organisation_ids_of(user) if user.is_authenticated else set()
    if not ids:
        return []
    found = db.session.scalars(
        sa.select(Organisation)
        .where(Organisation.id.in_(ids))
        .options(sa.orm.joinedload(Organisation.collective), sa.orm.joinedload(Organisation.parent))
    )
    return sorted(found, key=lambda o: (o.title.casefold(), o.id))


def post_question(
    user: User, organisation: Organisation, title: str, body: str, domain_ids
) -> Question:
    """`user` posts a question for `organisation`, in one or more domains.

    Refuses an organisation `user` does not act for, no domain, and a domain that is not
    one of the cooperative's."""
    if not partners.acts_for(user, organisation):
        raise Refused(_l("You do not act for this organisation."), "organisation")
    domain_ids = set(domain_ids or ())
    if not domain_ids:
        raise Refused(_l("Please choose at least one domain."), "domains")
    domains = list(db.session.scalars(sa.select(Domain).where(Domain.id.in_(domain_ids))))
    if len(domains) != len(domain_ids):
        raise Refused(_l("Please choose domains from the list."), "domains")
    question = Question(
        organisation=organisation, posted_by_id=user.id, title=title, body=body, domains=domains
    )
    db.session.add(question)
    db.session.flush()
    return question


def organisations_that_may_respond(user: User, question: Question) -> list[Organisation]:
    """The organisations `user` acts for that may still respond to `question`: not the
    asker, and not one that responded already."""
    taken = {question.organisation_id} | {r.organisation_id for r in question.responses}
    return [o for o in organisations_of(user) if o.id not in taken]


def respond(user: User, question: Question, organisation: Organisation, note: str = ""):
    """`organisation` (for which `user` acts) wants to work on `question`; the person who
    posted the question gets an e-mail (in their language, through the outbox).

    Refuses a question that is hidden or no longer open, an organisation `user` does not
    act for, the asker itself, and a second response of the same organisation."""
    lock_question(question)
    if question.is_hidden or question.status != QuestionStatus.OPEN:
        raise Refused(_l("This question no longer takes responses."))
    if not partners.acts_for(user, organisation):
        raise Refused(_l("You do not act for this organisation."), "organisation")
    if organisation.id == question.organisation_id:
        raise Refused(_l("This organisation asked the question itself."), "organisation")
    if any(r.organisation_id == organisation.id for r in question.responses):
        raise Refused(_l("This organisation has already responded."), "organisation")
    response = QuestionResponse(
        question=question, organisation=organisation, responded_by_id=user.id, note=note
    )
    db.session.add(response)
    db.session.flush()
    poster = db.session.get(User, question.posted_by_id) if question.posted_by_id else None
    if poster is not None:
        queue_mail(
            poster.email,
            _l("%(name)s wants to work on your question", name=organisation.title),
            "question_response",
            poster.locale or "nl",
            poster=poster,
            question=question,
            response=response,
            question_url=external_url("questions.show", question_id=question.id),
        )
    return response


def koppels_of(question: Question, include_drafts: bool = False) -> list[Collaboration]:
    """The collaborations formed from `question`: the published ones, or all of them
    (`include_drafts`, for programme staff)."""
    query = sa.select(Collaboration).where(Collaboration.question_id == question.id)
    if not include_drafts:
        query = query.where(Collaboration.published_at.is_not(None))
    return list(db.session.scalars(query.order_by(Collaboration.id)))


def _staff_only(user: User) -> None:
    if not (user.is_authenticated and user.runs_programme):
        raise Refused(_l("Only programme staff may do this."))


def set_hidden(user: User, question: Question, hidden: bool) -> None:
    """Programme staff hide a question from the public (moderation) or show it again."""
    _staff_only(user)
    lock_question(question)
    question.is_hidden = hidden
    db.session.flush()


def _move(
    user: User, question: Question, was: QuestionStatus, becomes: QuestionStatus, refusal
) -> None:
    """Programme staff move `question` from `was` to `becomes`, under its lock; refuses
    (`refusal` says why) one that is not `was` (any more)."""
    _staff_only(user)
    lock_question(question)
    if question.status != was:
        raise Refused(refusal)
    question.status = becomes
    db.session.flush()


def close(user: User, question: Question) -> None:
    """Programme staff close an open question: it takes no more responses.
    Refuses one that is not open."""
    refusal = _l("Only an open question can be closed.")
    _move(user, question, QuestionStatus.OPEN, QuestionStatus.CLOSED, refusal)


def reopen(user: User, question: Question) -> None:
    """Programme staff open a closed question again. Refuses one that is not closed (a
    paired question has its koppel)."""
    refusal = _l("Only a closed question can be opened again.")
    _move(user, question, QuestionStatus.CLOSED, QuestionStatus.OPEN, refusal)


def form_koppel(user: User, question: Question, response_ids) -> Collaboration:
    """Programme staff form a koppel from `question`: a draft collaboration (kind koppel,
    status idea, not published) with the asker and the chosen respondents as parties
    (each with the person who posted or responded as its contact, and no role yet: staff
    write it), the question's title, text and domains. The question becomes "paired".
    A person who no longer acts for their organisation is not made its contact.

    Refuses anyone but programme staff, a question that is hidden or not open, no
    respondent chosen, and a response that is not this question's."""
    _staff_only(user)
    lock_question(question)
    if question.is_hidden:
        raise Refused(_l("Show the question again before forming a koppel from it."))
    if question.status != QuestionStatus.OPEN:
        raise Refused(_l("A koppel is formed only from an open question."))
    chosen_ids = set(response_ids or ())
    if not chosen_ids:
        raise Refused(_l("Please choose at least one organisation that responded."), "responses")
    chosen = [r for r in question.responses if r.id in chosen_ids]
    if len(chosen) != len(chosen_ids):
        raise Refused(_l("Please choose from the organisations that responded."), "responses")
    collaboration = Collaboration(
        slug=free_slug(Collaboration.slug, question.title, COLLABORATION_SLUG_MAX, "koppel"),
        title=question.title,
        kind=CollaborationKind.KOPPEL,
        status=CollaborationStatus.IDEA,
        goal=question.body,
        question=question,
        domains=list(question.domains),
    )
    collaboration.parties = [
        CollaborationParty(
            organisation_id=organisation_id,
            contact_user_id=_contact(person_id, organisation_id),
        )
        for organisation_id, person_id in [
            (question.organisation_id, question.posted_by_id),
            *((response.organisation_id, response.responded_by_id) for response in chosen),
        ]
    ]
    db.session.add(collaboration)
    question.status = QuestionStatus.PAIRED
    db.session.flush()
    return collaboration


def _contact(user_id: int | None, organisation_id: int) -> int | None:
    """The person who asked or responded, as the party's contact, while they still act
    for the organisation; none otherwise (staff choose one: the back office and the
    party's bank reference are the contact's)."""
    user = db.session.get(User, user_id) if user_id else None
    organisation = db.session.get(Organisation, organisation_id)
    return user_id if user is not None and partners.acts_for(user, organisation) else None
