"""Questions (vraagstukken): the public list and a question's page, posting one for an
organisation one acts for, responding "we want to work on this", and programme staff's
moderation (hide, close, reopen) and forming a koppel of the asker and respondents.

Hidden questions are 404 for everyone but programme staff and admins.
"""

from flask import Blueprint, abort, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import htmx
from ..forms.fields import page_number
from ..forms.questions import (
    STATUS_LABELS,
    KoppelForm,
    QuestionFilterForm,
    QuestionForm,
    ResponseForm,
)
from ..i18n import current_locale
from ..models import Question
from ..services import questions
from ..services.collectives import all_domains
from ..services.questions import PAGE_MAX
from .decorators import programme_required
from .going_back import commit_or_go_back, commit_or_redraw, commit_or_show, form_page

bp = Blueprint("questions", __name__, url_prefix="/questions")

bp.add_app_template_global(STATUS_LABELS, "question_status_labels")


@bp.app_template_global()
def collaboration_back_office(collaboration_id: int) -> str:
    """Where programme staff go on with a koppel just formed: its page in the back office
    of collaborations."""
    return url_for("manage_collaborations.show", collaboration_id=collaboration_id)


@bp.app_template_global()
def collaboration_page(slug: str) -> str:
    """A published collaboration's public page."""
    return url_for("collaborations.show", slug=slug)


LIST_TARGET = "question-list"


@bp.get("")
def index():
    """The questions that are not hidden, newest first, by domain and status, paged. An
    htmx request aimed at the list (the filters changed) gets only the list."""
    form = QuestionFilterForm(request.args)
    filters = form.filters(page_number(request.args.get("page"), PAGE_MAX))
    found, more = questions.find_questions(filters)
    domains = all_domains()
    unknown = []
    if filters.domain and filters.domain not in {d.slug for d in domains}:
        unknown.append(_("There is no domain “%(domain)s”.", domain=filters.domain))
    if filters.status and not questions.known_status(filters.status):
        unknown.append(_("There is no status “%(status)s”.", status=filters.status))
    context = {"questions": found, "more": more, "filters": filters, "unknown": unknown}
    if htmx and htmx.target == LIST_TARGET:
        template = "questions/_list.html"
        context["fragment"] = True
    else:
        template = "questions/index.html"
        context["domains"] = domains
        context["may_post"] = bool(questions.organisations_of(current_user))
    response = make_response(render_template(template, **context))
    # The same URL gives a fragment or a page: caches must keep them apart.
    response.vary.update(("HX-Request", "HX-Target"))
    return response


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Post a question for an organisation one acts for (403 for whoever acts for none)."""
    organisations = questions.organisations_of(current_user)
    if not organisations:
        abort(403)
    form = QuestionForm()
    form.offer(organisations, all_domains(), current_locale())

    def post():
        chosen = next(o for o in organisations if o.id == form.organisation.data)
        return questions.post_question(
            current_user, chosen, form.title.data, form.body.data, form.domains.data
        )

    return form_page(
        form,
        post,
        done=_("Your question is posted."),
        to=lambda question: url_for("questions.show", question_id=question.id),
        default="organisation",
        template="questions/new.html",
    )


def _question(question_id: int) -> Question:
    question = questions.visible_question(question_id, current_user)
    if question is None:
        abort(404)
    return question


def _render_show(question, response_form=None, koppel_form=None, status: int = 200):
    responders = questions.organisations_that_may_respond(current_user, question)
    if response_form is None:
        response_form = ResponseForm(formdata=None)
    response_form.offer(responders)
    staff = current_user.is_authenticated and current_user.runs_programme
    if koppel_form is None:
        koppel_form = KoppelForm(formdata=None)
    koppel_form.offer(question.responses)
    return (
        render_template(
            "questions/show.html",
            question=question,
            response_form=response_form,
            responders=responders,
            # Someone who acts for an organisation, all of which asked or responded.
            all_responded=not responders
            and current_user.is_authenticated
            and bool(questions.organisations_of(current_user)),
            koppel_form=koppel_form,
            staff=staff,
            koppels=questions.koppels_of(question, include_drafts=staff),
        ),
        status,
    )


@bp.get("/<int:question_id>")
def show(question_id: int):
    """The question, who asked it, who wants to work on it; the response form for
    whoever acts for an organisation that may respond; staff's buttons."""
    return _render_show(_question(question_id))


@bp.post("/<int:question_id>/respond")
@login_required
def respond(question_id: int):
    """ "We want to work on this", for one of the organisations one acts for."""
    question = _question(question_id)
    offered = questions.organisations_that_may_respond(current_user, question)
    form = ResponseForm()
    form.offer(offered)
    if form.validate_on_submit():
        organisation = next(o for o in offered if o.id == form.organisation.data)
        done = commit_or_show(
            form,
            lambda: questions.respond(current_user, question, organisation, form.note.data or ""),
            done=_("%(name)s wants to work on this question.", name=organisation.title),
            to=url_for("questions.show", question_id=question.id),
        )
        if done:
            return done
    return _render_show(question, response_form=form, status=422)


def _moderate(question_id: int, change, done: str):
    question = _question(question_id)
    return commit_or_go_back(
        lambda: change(current_user, question),
        back=url_for("questions.show", question_id=question.id),
        done=done,
    )


@bp.post("/<int:question_id>/hide")
@programme_required
def hide(question_id: int):
    """Take the question out of the public list (moderation)."""
    return _moderate(
        question_id,
        lambda user, q: questions.set_hidden(user, q, True),
        _("The question is hidden: only programme staff see it."),
    )


@bp.post("/<int:question_id>/unhide")
@programme_required
def unhide(question_id: int):
    """Show a hidden question again."""
    return _moderate(
        question_id,
        lambda user, q: questions.set_hidden(user, q, False),
        _("The question is shown again."),
    )


@bp.post("/<int:question_id>/close")
@programme_required
def close(question_id: int):
    """Close an open question: it takes no more responses."""
    return _moderate(question_id, questions.close, _("The question is closed."))


@bp.post("/<int:question_id>/reopen")
@programme_required
def reopen(question_id: int):
    """Open a closed question again."""
    return _moderate(question_id, questions.reopen, _("The question is open again."))


@bp.post("/<int:question_id>/koppel")
@programme_required
def koppel(question_id: int):
    """Form a koppel of the asker and the chosen respondents: a draft collaboration,
    opened in the back office of collaborations to fill in."""
    question = _question(question_id)
    form = KoppelForm()
    form.offer(question.responses)
    return commit_or_redraw(
        form,
        lambda: questions.form_koppel(current_user, question, form.responses.data),
        done=_("The koppel is formed as a draft. Add its commitments, then publish it."),
        to=lambda collaboration: collaboration_back_office(collaboration.id),
        redraw=lambda status: _render_show(question, koppel_form=form, status=status),
    )
