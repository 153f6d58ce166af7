"""Questions through HTTP: the public list and page, posting, responding, staff's
moderation and forming a koppel, with bad input and other people's organisations."""

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Collaboration,
    CollaborationKind,
    Domain,
    Organisation,
    Question,
    QuestionResponse,
    QuestionStatus,
    User,
    utcnow,
)
from tests.collaboration_factories import (
    make_collaboration,
    make_organisation,
    make_question,
    organisation_of,
)
from tests.conftest import link_in, post_form
from tests.factories import make_collective, make_domain, make_organiser, make_user


@pytest.fixture
def world(app):
    with app.app_context():
        energy = make_domain()
        housing = make_domain("wonen", "Wonen", "Housing")
        official = make_user("ambtenaar@amsterdam.example", name="Aafke")
        city = make_organisation(people=[official])
        collective = make_collective(domain=energy)
        make_organiser(collective)
        zonnedak = organisation_of(collective)
        # Someone who acts for two organisations: picks which one responds.
        both = make_user("beide@example.org", name="Bea")
        westergas = make_organisation(
            "westergas", "Westergasfabriek", kind="business", people=[both]
        )
        stichting = make_organisation(
            "stichting", "Stichting Meent", kind="foundation", people=[both]
        )
        make_user("staff@example.org", is_programme_staff=True)
        make_user("stranger@example.org")
        return dict(
            energy=energy.id,
            housing=housing.id,
            city=city.id,
            zonnedak=zonnedak.id,
            westergas=westergas.id,
            stichting=stichting.id,
        )


def _question(app, world, **kw):
    with app.app_context():
        city = db.session.get(Organisation, world["city"])
        question = make_question(city, **kw)
        return question.id


def _page(response) -> str:
    return response.get_data(as_text=True)


# --- Posting ---------------------------------------------------------------------------------


def test_a_person_acting_for_an_organisation_posts_a_question(app, client, auth, world):
    auth.login("ambtenaar@amsterdam.example")
    form = _page(client.get("/questions/new?lang=en"))
    assert "Gemeente Amsterdam" in form and "Energy" in form
    response = post_form(
        client,
        "/questions/new",
        {
            "organisation": world["city"],
            "title": "Inkoop energiebespaarservice",
            "body": "Raakt meerdere domeinen maar financiert er één.",
            "domains": [world["energy"], world["housing"]],
        },
    )
    assert response.status_code == 303
    with app.app_context():
        question = db.session.scalar(sa.select(Question))
        assert response.headers["Location"] == f"/questions/{question.id}"
        assert question.organisation_id == world["city"]
        assert sorted(d.slug for d in question.domains) == ["energie", "wonen"]
    page = _page(client.get(response.headers["Location"]))
    assert "Inkoop energiebespaarservice" in page and "Gemeente Amsterdam" in page


@pytest.mark.parametrize(
    "change, field_message",
    [
        ({"title": ""}, "Please write the question in one line."),
        ({"title": "x" * 201}, "Field cannot be longer than 200 characters."),
        ({"body": ""}, "Please tell a little more about the question."),
        ({"domains": []}, "Please choose at least one domain."),
        ({"domains": ["999"]}, "Please choose domains from the list."),
        ({"domains": ["energie"]}, "Please choose domains from the list."),
        ({"organisation": "zonnedak"}, "Please choose an organisation from the list."),
    ],
)
def test_a_bad_question_is_refused_with_the_typing_kept(client, auth, world, change, field_message):
    auth.login("ambtenaar@amsterdam.example")
    data = {
        "organisation": world["city"],
        "title": "Mijn vraag over inkoop",
        "body": "Een uitleg die blijft staan",
        "domains": [world["energy"]],
        **change,
    }
    response = post_form(client, "/questions/new?lang=en", data)
    assert response.status_code == 422
    page = _page(response)
    assert field_message in page
    assert "Een uitleg die blijft staan" in page or "body" in change


def test_posting_for_someone_elses_organisation_is_refused(app, client, auth, world):
    auth.login("organiser@example.org")  # acts for Zonnedak only
    response = post_form(
        client,
        "/questions/new?lang=en",
        {"organisation": world["city"], "title": "T", "body": "B", "domains": [world["energy"]]},
    )
    assert response.status_code == 422
    assert "Please choose an organisation from the list." in _page(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Question.id))) == 0


def test_who_acts_for_no_organisation_may_not_post(client, auth, world):
    assert client.get("/questions/new").status_code == 302
    auth.login("stranger@example.org")
    assert client.get("/questions/new").status_code == 403
    assert "/questions/new" not in _page(client.get("/questions"))


# --- The list --------------------------------------------------------------------------------


def test_the_list_shows_questions_not_hidden_filtered_by_domain_and_status(app, client, world):
    shown = _question(app, world, title="Zichtbare vraag")
    _question(app, world, title="Verborgen vraag", is_hidden=True)
    closed = _question(app, world, title="Gesloten vraag", status=QuestionStatus.CLOSED)
    with app.app_context():
        db.session.get(Question, shown).domains = [db.session.get(Domain, world["energy"])]
        db.session.commit()
    page = _page(client.get("/questions"))
    assert "Zichtbare vraag" in page and "Gesloten vraag" in page
    assert "Verborgen vraag" not in page
    page = _page(client.get("/questions?domain=energie"))
    assert "Zichtbare vraag" in page and "Gesloten vraag" not in page
    page = _page(client.get("/questions?status=closed"))
    assert "Gesloten vraag" in page and "Zichtbare vraag" not in page
    assert closed
    page = _page(client.get("/questions?status=weg&domain=nergens&lang=en"))
    assert "No questions match these filters." in page
    assert "There is no status “weg”." in page and "There is no domain “nergens”." in page
    assert client.get("/questions?domain=%00&page=x").status_code == 200


def test_htmx_aimed_at_the_list_gets_only_the_list(app, client, world):
    _question(app, world, title="Zichtbare vraag", status=QuestionStatus.CLOSED)
    response = client.get(
        "/questions?status=closed&lang=en",
        headers={"HX-Request": "true", "HX-Target": "question-list"},
    )
    page = _page(response)
    assert "Zichtbare vraag" in page and "<html" not in page
    assert "1 question shown" in page
    assert {"HX-Request", "HX-Target"} <= set(response.vary)
    boosted = client.get("/questions", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in _page(boosted)


def test_the_list_takes_a_fixed_number_of_queries(app, client, world, count_queries):
    for number in range(3):
        _question(app, world, title=f"Vraag {number}")
    client.get("/questions")
    with count_queries as counted:
        client.get("/questions")
    few = counted.count
    for number in range(12):
        _question(app, world, title=f"Meer {number}")
    with count_queries as counted:
        assert "Meer 11" in _page(client.get("/questions"))
    assert counted.count == few


def test_a_questions_page_takes_a_fixed_number_of_queries(app, client, auth, world, count_queries):
    question = _question(app, world)
    auth.login("staff@example.org")  # staff see the most: the koppel form too
    with app.app_context():
        respondents = [
            make_organisation(f"org-{n}", f"Organisatie {n}", kind="business") for n in range(6)
        ]
        ids = [o.id for o in respondents]

    def respond(organisation_id):
        with app.app_context():
            db.session.add(QuestionResponse(question_id=question, organisation_id=organisation_id))
            db.session.commit()

    respond(ids[0])
    client.get(f"/questions/{question}")
    with count_queries as counted:
        client.get(f"/questions/{question}")
    few = counted.count
    for organisation_id in ids[1:]:
        respond(organisation_id)
    with count_queries as counted:
        assert "Organisatie 5" in _page(client.get(f"/questions/{question}"))
    assert counted.count == few


def test_a_hidden_question_is_404_but_for_staff(app, client, auth, world):
    hidden = _question(app, world, is_hidden=True)
    assert client.get(f"/questions/{hidden}").status_code == 404
    assert client.get("/questions/99999").status_code == 404
    auth.login("ambtenaar@amsterdam.example")  # even for the asker
    assert client.get(f"/questions/{hidden}").status_code == 404
    auth.logout()
    auth.login("staff@example.org")
    assert "only programme staff see it" in _page(client.get(f"/questions/{hidden}?lang=en"))


# --- Responding ------------------------------------------------------------------------------


def test_a_collectives_organiser_responds_and_cannot_twice(app, client, auth, world):
    question = _question(app, world)
    page = _page(client.get(f"/questions/{question}?lang=en"))
    assert "Log in to respond." in page
    auth.login("organiser@example.org")
    page = _page(client.get(f"/questions/{question}?lang=en"))
    assert "For Zonnedak" in page  # only one organisation: no choice to make
    response = post_form(
        client,
        f"/questions/{question}/respond",
        {"organisation": world["zonnedak"], "note": "Wij hebben een energiecoach"},
    )
    assert response.status_code == 303
    page = _page(client.get(f"/questions/{question}?lang=en"))
    assert 'Zonnedak</strong>: <span class="pre-line">Wij hebben een energiecoach' in page
    assert "We want to work on this</button>" not in page
    assert "Each organisation you act for asked this question or has responded" in page
    assert "Ask the programme staff to add you" not in page
    again = post_form(
        client, f"/questions/{question}/respond?lang=en", {"organisation": world["zonnedak"]}
    )
    assert again.status_code == 422
    assert "Each organisation you act for asked this question or has responded" in _page(again)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(QuestionResponse.id))) == 1


def test_the_asker_gets_an_email_in_dutch(app, client, auth, runner, smtp_server, world):
    with app.app_context():
        official = db.session.scalar(sa.select(User).where(User.email.like("ambtenaar%")))
        question = make_question(
            db.session.get(Organisation, world["city"]), "Inkoop", posted_by_id=official.id
        ).id
    auth.login("organiser@example.org")
    post_form(client, f"/questions/{question}/respond", {"organisation": world["zonnedak"]})
    result = runner.invoke(args=["coop", "send-mail"])
    assert result.exit_code == 0, result.output
    [message] = smtp_server.to("ambtenaar@amsterdam.example")
    assert message["Subject"] == "Zonnedak wil aan je vraag werken"
    assert link_in(message, "/questions/") == f"/questions/{question}"


def test_someone_acting_for_two_organisations_picks_one(app, client, auth, world):
    question = _question(app, world)
    auth.login("beide@example.org")
    page = _page(client.get(f"/questions/{question}?lang=en"))
    assert (
        'name="organisation"' in page and "Stichting Meent" in page and "Westergasfabriek" in page
    )
    bad = post_form(
        client,
        f"/questions/{question}/respond?lang=en",
        {"organisation": world["zonnedak"], "note": "Mijn notitie"},
    )
    assert bad.status_code == 422
    assert "Please choose an organisation from the list." in _page(bad)
    assert "Mijn notitie" in _page(bad)
    good = post_form(client, f"/questions/{question}/respond", {"organisation": world["stichting"]})
    assert good.status_code == 303
    with app.app_context():
        assert db.session.scalars(sa.select(QuestionResponse.organisation_id)).all() == [
            world["stichting"]
        ]


def test_a_note_too_long_is_refused_and_kept(app, client, auth, world):
    question = _question(app, world)
    auth.login("organiser@example.org")
    response = post_form(
        client,
        f"/questions/{question}/respond?lang=en",
        {"organisation": world["zonnedak"], "note": "lang " * 401},
    )
    assert response.status_code == 422
    assert "Please keep it under 2000 characters." in _page(response)
    assert "lang lang" in _page(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(QuestionResponse.id))) == 0


def test_a_closed_question_takes_no_responses(app, client, auth, world):
    question = _question(app, world, status=QuestionStatus.CLOSED)
    auth.login("organiser@example.org")
    assert "We want to work on this" not in _page(client.get(f"/questions/{question}?lang=en"))
    response = post_form(
        client, f"/questions/{question}/respond?lang=en", {"organisation": world["zonnedak"]}
    )
    assert response.status_code == 422
    assert "This question no longer takes responses." in _page(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(QuestionResponse.id))) == 0


# --- Staff: moderation and forming a koppel --------------------------------------------------


def test_staff_hide_close_reopen_and_show_again(app, client, auth, world):
    question = _question(app, world)
    auth.login("stranger@example.org")
    assert post_form(client, f"/questions/{question}/hide").status_code == 403
    auth.logout()
    auth.login("staff@example.org")
    for action, hidden, status in (
        ("hide", True, "open"),
        ("close", True, "closed"),
        ("reopen", True, "open"),
        ("unhide", False, "open"),
    ):
        response = post_form(client, f"/questions/{question}/{action}")
        assert response.status_code == 303, action
        assert response.headers["Location"] == f"/questions/{question}"
        with app.app_context():
            row = db.session.get(Question, question)
            assert (row.is_hidden, row.status) == (hidden, status), action
    refused = post_form(client, f"/questions/{question}/reopen?lang=en", follow_redirects=True)
    assert "Only a closed question can be opened again." in _page(refused)


def _respond(app, world, question, organisation, email):
    with app.app_context():
        db.session.add(
            QuestionResponse(
                question_id=question,
                organisation_id=world[organisation],
                responded_by_id=db.session.scalar(sa.select(User.id).where(User.email == email)),
            )
        )
        db.session.commit()
        return db.session.scalar(
            sa.select(QuestionResponse.id).where(
                QuestionResponse.organisation_id == world[organisation]
            )
        )


def test_staff_form_a_koppel_and_go_on_in_the_back_office(app, client, auth, world):
    question = _question(app, world)
    zonnedak = _respond(app, world, question, "zonnedak", "organiser@example.org")
    _respond(app, world, question, "westergas", "beide@example.org")
    auth.login("organiser@example.org")
    assert (
        post_form(client, f"/questions/{question}/koppel", {"responses": zonnedak}).status_code
        == 403
    )
    auth.logout()
    auth.login("staff@example.org")
    page = _page(client.get(f"/questions/{question}?lang=en"))
    assert "Form the koppel" in page and "Westergasfabriek" in page
    none = post_form(client, f"/questions/{question}/koppel?lang=en", {})
    assert none.status_code == 422
    assert "Please choose at least one organisation that responded." in _page(none)
    other = post_form(client, f"/questions/{question}/koppel?lang=en", {"responses": "999"})
    assert other.status_code == 422
    response = post_form(client, f"/questions/{question}/koppel", {"responses": zonnedak})
    assert response.status_code == 303
    with app.app_context():
        koppel = db.session.scalar(sa.select(Collaboration))
        assert response.headers["Location"] == f"/manage/collaborations/{koppel.id}"
        assert koppel.kind == CollaborationKind.KOPPEL and not koppel.is_published
        assert [p.organisation_id for p in koppel.parties] == [world["city"], world["zonnedak"]]
        assert db.session.get(Question, question).status == QuestionStatus.PAIRED
    page = _page(client.get(f"/questions/{question}?lang=en"))
    assert "Koppel formed" in page and f"/manage/collaborations/{koppel.id}" in page
    again = post_form(client, f"/questions/{question}/koppel?lang=en", {"responses": zonnedak})
    assert again.status_code == 422
    assert "A koppel is formed only from an open question." in _page(again)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Collaboration.id))) == 1


def test_a_published_koppel_is_linked_from_its_question(app, client, world):
    question = _question(app, world, status=QuestionStatus.PAIRED)
    with app.app_context():
        city = db.session.get(Organisation, world["city"])
        make_collaboration(
            "inkoop-koppel",
            "Inkoop samen",
            CollaborationKind.KOPPEL,
            [city],
            published=False,
            question_id=question,
        )
    page = _page(client.get(f"/questions/{question}?lang=en"))
    assert "/collaborations/inkoop-koppel" not in page  # a draft: not yet
    with app.app_context():
        db.session.scalar(sa.select(Collaboration)).published_at = utcnow()
        db.session.commit()
    page = _page(client.get(f"/questions/{question}?lang=en"))
    assert 'href="/collaborations/inkoop-koppel">Inkoop samen</a>' in page
    assert "/manage/collaborations/" not in page


def test_pages_speak_dutch(app, client, world):
    question = _question(app, world)
    assert "Vragen" in _page(client.get("/questions?lang=nl"))
    assert "Wij willen hieraan werken" in _page(client.get(f"/questions/{question}?lang=nl"))
