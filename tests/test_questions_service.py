"""Questions and koppels (services/questions.py) and the organisations kept by programme
staff (services/organisations.py), on the service functions."""

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    CollaborationKind,
    CollaborationStatus,
    Collective,
    Organisation,
    OrganisationKind,
    OrganisationPerson,
    OutboxMessage,
    QuestionResponse,
    QuestionStatus,
)
from cooperative.refusals import Refused
from cooperative.services import organisations, questions
from cooperative.services.organisations import OrganisationDetails
from cooperative.services.questions import QuestionFilters
from tests.collaboration_factories import make_organisation, make_question, organisation_of
from tests.conftest import second_click
from tests.factories import make_collective, make_domain, make_organiser, make_user


@pytest.fixture(autouse=True)
def ctx(app):
    # In English: the refusals are matched by their words.
    with app.test_request_context("/?lang=en"):
        yield


@pytest.fixture
def world():
    energy = make_domain()
    housing = make_domain("wonen", "Wonen", "Housing")
    official = make_user("ambtenaar@amsterdam.example", name="Aafke Ambtenaar")
    city = make_organisation(people=[official])
    zonnedak_collective = make_collective(domain=energy)
    organiser = make_organiser(zonnedak_collective)
    zonnedak = organisation_of(zonnedak_collective)
    staff = make_user("staff@example.org", is_programme_staff=True)
    return dict(
        energy=energy,
        housing=housing,
        official=official,
        city=city,
        zonnedak=zonnedak,
        organiser=organiser,
        staff=staff,
        stranger=make_user("stranger@example.org"),
    )


def _post(w, **kw):
    question = questions.post_question(
        w["official"],
        w["city"],
        kw.get("title", "Inkoop energiebespaarservice"),
        "Raakt meerdere domeinen maar financiert er één.",
        kw.get("domains", [w["energy"].id]),
    )
    db.session.commit()
    return question


# --- Posting and responding ------------------------------------------------------------------


def test_a_person_posts_for_an_organisation_they_act_for(world):
    question = _post(world, domains=[world["energy"].id, world["housing"].id])
    assert question.organisation == world["city"]
    assert question.posted_by_id == world["official"].id
    assert question.status == QuestionStatus.OPEN
    assert {d.slug for d in question.domains} == {"energie", "wonen"}


@pytest.mark.parametrize(
    "who, domains, field",
    [
        ("organiser", "energy", "organisation"),  # acts for Zonnedak, not the city
        ("stranger", "energy", "organisation"),
        ("official", None, "domains"),
        ("official", "unknown", "domains"),
    ],
)
def test_posting_is_refused(world, who, domains, field):
    domain_ids = {"energy": [world["energy"].id], None: [], "unknown": [world["energy"].id, 999]}
    with pytest.raises(Refused) as refused:
        questions.post_question(world[who], world["city"], "Titel", "", domain_ids[domains])
    assert refused.value.field == field


def test_a_collectives_organiser_responds_for_it_once(world):
    question = _post(world)
    assert questions.organisations_that_may_respond(world["organiser"], question) == [
        world["zonnedak"]
    ]
    questions.respond(world["organiser"], question, world["zonnedak"], "Wij doen mee")
    db.session.commit()
    assert [r.organisation for r in question.responses] == [world["zonnedak"]]
    assert questions.organisations_that_may_respond(world["organiser"], question) == []
    with pytest.raises(Refused, match="already responded"):
        questions.respond(world["organiser"], question, world["zonnedak"])


def test_the_person_who_asked_hears_of_a_response_in_their_language(world):
    world["official"].locale = "en"
    question = _post(world)
    questions.respond(world["organiser"], question, world["zonnedak"], "Wij doen mee")
    db.session.commit()
    mail = db.session.scalar(sa.select(OutboxMessage))
    assert mail.to_address == "ambtenaar@amsterdam.example"
    assert mail.subject == "Zonnedak wants to work on your question"
    assert "Inkoop energiebespaarservice" in mail.body_text
    assert "Wij doen mee" in mail.body_text
    assert f"/questions/{question.id}" in mail.body_text
    # Nobody to tell when the poster's account is gone.
    other = make_question(world["city"], "Zonder vraagsteller")
    questions.respond(world["organiser"], other, world["zonnedak"])
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1


def test_the_asker_and_strangers_cannot_respond(world):
    question = _post(world)
    assert questions.organisations_that_may_respond(world["official"], question) == []
    with pytest.raises(Refused, match="asked the question itself"):
        questions.respond(world["official"], question, world["city"])
    with pytest.raises(Refused, match="do not act"):
        questions.respond(world["stranger"], question, world["zonnedak"])


@pytest.mark.parametrize("state", ["closed", "paired", "hidden"])
def test_only_an_open_visible_question_takes_responses(world, state):
    question = _post(world)
    if state == "hidden":
        question.is_hidden = True
    else:
        question.status = QuestionStatus(state)
    with pytest.raises(Refused, match="no longer takes responses"):
        questions.respond(world["organiser"], question, world["zonnedak"])


# --- Moderation ------------------------------------------------------------------------------


def test_staff_hide_close_and_reopen_a_question(world):
    question = _post(world)
    questions.set_hidden(world["staff"], question, True)
    assert questions.visible_question(question.id, world["official"]) is None
    assert questions.visible_question(question.id, world["staff"]) is question
    assert questions.find_questions(QuestionFilters()) == ([], False)
    questions.set_hidden(world["staff"], question, False)
    questions.close(world["staff"], question)
    assert question.status == QuestionStatus.CLOSED
    with pytest.raises(Refused, match="Only an open question"):
        questions.close(world["staff"], question)
    questions.reopen(world["staff"], question)
    assert question.status == QuestionStatus.OPEN
    with pytest.raises(Refused, match="Only a closed question"):
        questions.reopen(world["staff"], question)


@pytest.mark.parametrize("who", ["official", "organiser", "stranger"])
def test_only_staff_moderate(world, who):
    question = _post(world)
    for change in (
        lambda: questions.set_hidden(world[who], question, True),
        lambda: questions.close(world[who], question),
        lambda: questions.form_koppel(world[who], question, []),
    ):
        with pytest.raises(Refused, match="Only programme staff"):
            change()
    assert not question.is_hidden and question.status == QuestionStatus.OPEN


# --- The list --------------------------------------------------------------------------------


def test_the_list_filters_by_domain_and_status_newest_first(world):
    first = _post(world, title="Eerste")
    second = _post(world, title="Tweede", domains=[world["housing"].id])
    questions.close(world["staff"], first)
    assert questions.find_questions(QuestionFilters())[0] == [second, first]
    assert questions.find_questions(QuestionFilters(domain="wonen"))[0] == [second]
    assert questions.find_questions(QuestionFilters(status="closed"))[0] == [first]
    assert questions.find_questions(QuestionFilters(domain="nergens"))[0] == []


def test_the_list_pages(world):
    for number in range(questions.PAGE_SIZE + 1):
        make_question(world["city"], f"Vraag {number}")
    page, more = questions.find_questions(QuestionFilters())
    assert len(page) == questions.PAGE_SIZE and more
    page, more = questions.find_questions(QuestionFilters(page=2))
    assert len(page) == 1 and not more


# --- Forming a koppel ------------------------------------------------------------------------


def _with_responses(world):
    question = _post(world)
    questions.respond(world["organiser"], question, world["zonnedak"], "Wij doen mee")
    westergas_person = make_user("westergas@example.org")
    westergas = make_organisation(
        "westergas", "Westergasfabriek", kind=OrganisationKind.BUSINESS, people=[westergas_person]
    )
    questions.respond(westergas_person, question, westergas)
    db.session.commit()
    return question


def test_staff_form_a_koppel_of_the_asker_and_chosen_respondents(world):
    question = _with_responses(world)
    chosen = question.responses[0]
    koppel = questions.form_koppel(world["staff"], question, [chosen.id])
    db.session.commit()
    assert koppel.kind == CollaborationKind.KOPPEL
    assert koppel.status == CollaborationStatus.IDEA
    assert not koppel.is_published
    assert koppel.question == question
    assert koppel.title == question.title and koppel.goal == question.body
    assert koppel.slug == "inkoop-energiebespaarservice"
    assert [d.slug for d in koppel.domains] == ["energie"]
    assert [(p.organisation, p.contact) for p in koppel.parties] == [
        (world["city"], world["official"]),
        (world["zonnedak"], world["organiser"]),
    ]
    assert question.status == QuestionStatus.PAIRED
    with pytest.raises(Refused, match="only from an open question"):
        questions.form_koppel(world["staff"], question, [chosen.id])


def test_a_second_koppel_of_the_same_title_gets_its_own_address(world):
    first = _with_responses(world)
    questions.form_koppel(world["staff"], first, [first.responses[0].id])
    second = _post(world)
    questions.respond(world["organiser"], second, world["zonnedak"])
    koppel = questions.form_koppel(world["staff"], second, [second.responses[0].id])
    assert koppel.slug == "inkoop-energiebespaarservice-2"


def test_forming_a_koppel_is_refused(world):
    question = _with_responses(world)
    other = _post(world, title="Andere vraag")
    questions.respond(world["organiser"], other, world["zonnedak"])
    with pytest.raises(Refused) as refused:
        questions.form_koppel(world["staff"], question, [])
    assert refused.value.field == "responses"
    with pytest.raises(Refused, match="from the organisations that responded"):
        questions.form_koppel(world["staff"], question, [other.responses[0].id])
    question.is_hidden = True
    with pytest.raises(Refused, match="Show the question again"):
        questions.form_koppel(world["staff"], question, [question.responses[0].id])
    assert question.status == QuestionStatus.OPEN


# --- Organisations ---------------------------------------------------------------------------


def test_a_department_belongs_to_a_municipality(world):
    department = organisations.save_organisation(
        None,
        OrganisationDetails(
            "Afval en Grondstoffen", OrganisationKind.DEPARTMENT, parent_id=world["city"].id
        ),
    )
    assert department.slug == "afval-en-grondstoffen"
    assert department.title == "Afval en Grondstoffen, Gemeente Amsterdam"
    with pytest.raises(Refused) as refused:
        organisations.save_organisation(
            None, OrganisationDetails("Losse afdeling", OrganisationKind.DEPARTMENT)
        )
    assert refused.value.field == "parent"
    with pytest.raises(Refused, match="Only a department"):
        organisations.save_organisation(
            None,
            OrganisationDetails("Bedrijf", OrganisationKind.BUSINESS, parent_id=world["city"].id),
        )
    with pytest.raises(Refused) as refused:  # a department is no municipality
        organisations.save_organisation(
            None,
            OrganisationDetails("Sub", OrganisationKind.DEPARTMENT, parent_id=department.id),
        )
    assert refused.value.field == "parent"


def test_organisation_slugs_are_checked(world):
    with pytest.raises(Refused, match="Another organisation") as refused:
        organisations.save_organisation(
            None,
            OrganisationDetails("Amsterdam", OrganisationKind.MUNICIPALITY),
            "gemeente-amsterdam",
        )
    assert refused.value.field == "slug"
    with pytest.raises(Refused, match="lower-case"):
        organisations.save_organisation(
            None, OrganisationDetails("Amsterdam", OrganisationKind.MUNICIPALITY), "Niet Goed"
        )
    renamed = organisations.save_organisation(
        world["city"],
        OrganisationDetails("Gemeente Amsterdam (stad)", OrganisationKind.MUNICIPALITY),
    )
    assert renamed.slug == "gemeente-amsterdam"  # kept when left empty


def test_a_collective_is_made_an_organisation_from_the_directory_only(world):
    voedsel = make_collective("voedselbank", "Voedselbank")
    assert voedsel in organisations.collectives_without_organisation()
    assert world["zonnedak"].collective not in organisations.collectives_without_organisation()
    draft = make_collective("moestuin", "Moestuin", is_published=False)
    assert draft not in organisations.collectives_without_organisation()
    with pytest.raises(Refused, match="Publish Moestuin in the directory first"):
        organisations.organisation_for_collective(draft)
    organisation = organisations.organisation_for_collective(voedsel)
    assert organisation.kind == OrganisationKind.COLLECTIVE
    assert organisation.name == "" and organisation.title == "Voedselbank"
    voedsel.name = "Voedselbank Oost"
    assert organisation.title == "Voedselbank Oost"  # linked, not copied
    with pytest.raises(Refused, match="already an organisation"):
        organisations.organisation_for_collective(voedsel)
    with pytest.raises(Refused) as refused:
        organisations.save_organisation(
            organisation, OrganisationDetails("Kopie", OrganisationKind.BUSINESS)
        )
    assert refused.value.field == "kind"
    with pytest.raises(Refused):
        organisations.save_organisation(
            None, OrganisationDetails("Kopie", OrganisationKind.COLLECTIVE)
        )


def test_people_act_for_an_organisation_by_their_account(world):
    person = organisations.add_person(world["city"], " Stranger@Example.org ")
    assert person.user == world["stranger"]
    assert world["city"] in questions.organisations_of(world["stranger"])
    with pytest.raises(Refused, match="already acts"):
        organisations.add_person(world["city"], "stranger@example.org")
    with pytest.raises(Refused, match="Nobody has an account") as refused:
        organisations.add_person(world["city"], "nobody@example.org")
    assert refused.value.field == "email"
    organisations.remove_person(person)
    assert questions.organisations_of(world["stranger"]) == []
    assert db.session.get(Organisation, world["city"].id) is not None


def test_who_no_longer_acts_for_their_organisation_is_not_made_its_contact(world):
    question = _with_responses(world)
    [official] = [p for p in world["city"].people if p.user_id == world["official"].id]
    organisations.remove_person(official)
    db.session.commit()
    koppel = questions.form_koppel(world["staff"], question, [question.responses[0].id])
    assert [(p.organisation, p.contact) for p in koppel.parties] == [
        (world["city"], None),
        (world["zonnedak"], world["organiser"]),
    ]


def test_a_double_click_on_respond_is_refused_not_a_500(app, world):
    """Two responses of one organisation at the same moment: the second waits for the
    first (the question's row is locked), then sees it and is refused."""
    question = _post(world)
    ids = question.id, world["organiser"].id, world["zonnedak"].id

    def respond_again():
        from cooperative.models import Organisation, Question, User

        questions.respond(
            db.session.get(User, ids[1]),
            db.session.get(Question, ids[0]),
            db.session.get(Organisation, ids[2]),
        )

    questions.respond(world["organiser"], question, world["zonnedak"])
    again = second_click(app, respond_again)
    db.session.commit()
    assert again() == "This organisation has already responded."
    assert len(db.session.scalars(sa.select(QuestionResponse)).all()) == 1


def test_a_municipality_with_departments_stays_one(world):
    organisations.save_organisation(
        None,
        OrganisationDetails(
            "Afval en Grondstoffen", OrganisationKind.DEPARTMENT, parent_id=world["city"].id
        ),
    )
    with pytest.raises(Refused, match="it stays a municipality") as refused:
        organisations.save_organisation(
            world["city"], OrganisationDetails("Amsterdam", OrganisationKind.BUSINESS)
        )
    assert refused.value.field == "kind"
    renamed = organisations.save_organisation(
        world["city"], OrganisationDetails("Gemeente Amsterdam", OrganisationKind.MUNICIPALITY)
    )
    assert renamed.kind == OrganisationKind.MUNICIPALITY


def test_a_collective_made_an_organisation_twice_at_once_is_refused_not_a_500(app, world):
    """Two staff make the same collective an organisation at the same moment: the second
    waits for the first (the collective's row is locked), then is told it is one."""
    voedsel = make_collective("voedselbank", "Voedselbank")
    db.session.commit()
    collective_id = voedsel.id

    def make_it_again():
        organisations.organisation_for_collective(db.session.get(Collective, collective_id))

    organisations.organisation_for_collective(voedsel)
    again = second_click(app, make_it_again)
    db.session.commit()
    assert again() == "Voedselbank is already an organisation."
    made = db.session.scalars(
        sa.select(Organisation).where(Organisation.collective_id == collective_id)
    )
    assert len(made.all()) == 1


def test_a_person_added_twice_at_once_is_refused_not_a_500(app, world):
    """Two staff add the same person to an organisation at the same moment: the second
    waits for the first (the organisation's row is locked), then is told."""
    city_id = world["city"].id
    db.session.commit()

    def add_again():
        organisations.add_person(db.session.get(Organisation, city_id), "stranger@example.org")

    organisations.add_person(world["city"], "stranger@example.org")
    again = second_click(app, add_again)
    db.session.commit()
    assert again() == "This person already acts for this organisation."
    people = db.session.scalars(
        sa.select(OrganisationPerson).where(OrganisationPerson.organisation_id == city_id)
    )
    assert sorted(person.user.email for person in people) == [
        "ambtenaar@amsterdam.example",
        "stranger@example.org",
    ]
