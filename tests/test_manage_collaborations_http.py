"""The collaborations' back office over HTTP (/manage/collaborations): who sees what
(programme staff all, a party's contact their own, others 403, and 404 for one
collaboration's pages), making and changing a collaboration, its parties, commitments
and events, publishing, progress by the party's contact, bad input (422 with the typing
kept, the message by its field), the programme-staff role on the admins' page, and the
list's queries."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    AuditEntry,
    Collaboration,
    CollaborationStatus,
    Commitment,
    Event,
    OutboxMessage,
    ProgressUpdate,
    User,
)
from tests.collaboration_factories import (
    make_collaboration,
    make_commitment,
    make_organisation,
    make_progress,
    organisation_of,
)
from tests.conftest import post_form
from tests.factories import make_admin, make_collective, make_domain, make_event, make_user

BASE = "/manage/collaborations"


@pytest.fixture
def world(app):
    """The Westergas Green Deal (published, from 2026-01-01) of the Westergasfabriek (its
    contact: Wendy) and the city (its contact: Cas), a waste commitment of each; staff."""
    with app.app_context():
        wendy = make_user("wendy@westergas.example", name="Wendy")
        cas = make_user("cas@amsterdam.example", name="Cas")
        make_user("staff@example.org", name="Stella Staff", is_programme_staff=True)
        make_user("member@example.org")
        westergas = make_organisation("westergas", "Westergasfabriek", kind="business")
        city = make_organisation()
        collaboration = make_collaboration(
            parties=[(westergas, wendy), (city, cas)], starts_on=date(2026, 1, 1)
        )
        own = make_commitment(collaboration.parties[0])
        city_commitment = make_commitment(
            collaboration.parties[1], "Afvalcoach", baseline=None, target=None, unit=""
        )
        return {
            "id": collaboration.id,
            "own": own.id,
            "city": city_commitment.id,
            "westergas_party": collaboration.parties[0].id,
            "city_party": collaboration.parties[1].id,
        }


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# --- who sees what --------------------------------------------------------------------


def test_staff_see_all_a_contact_their_own_others_nothing(client, app, auth, world):
    with app.app_context():
        make_collaboration("elders", "Een ander cluster", parties=[make_organisation("x", "X")])
    assert client.get(f"{BASE}/").status_code == 302
    auth.login("member@example.org")
    assert client.get(f"{BASE}/").status_code == 403
    # Not in it: as if it did not exist.
    assert client.get(f"{BASE}/{world['id']}").status_code == 404
    auth.logout()
    auth.login("wendy@westergas.example")
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert "Minder restafval op het Westergasterrein" in page
    assert "Een ander cluster" not in page
    assert "New collaboration" not in page and "Nieuwe samenwerking" not in page
    assert client.get(f"{BASE}/new").status_code == 403
    assert client.get(f"{BASE}/{world['id']}/edit").status_code == 403
    assert client.get(f"{BASE}/{world['id'] + 99}").status_code == 404
    auth.logout()
    auth.login("staff@example.org")
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert "Een ander cluster" in page and "Minder restafval" in page


def test_a_contact_never_sees_another_contacts_address(client, app, auth, world):
    with app.app_context():
        db.session.scalar(sa.select(User).where(User.email == "cas@amsterdam.example")).name = ""
        db.session.commit()
    auth.login("wendy@westergas.example")
    page = client.get(f"{BASE}/{world['id']}?lang=en").get_data(as_text=True)
    assert "Contact: —" in page and "cas@amsterdam.example" not in page
    auth.logout()
    auth.login("staff@example.org")
    page = client.get(f"{BASE}/{world['id']}?lang=en").get_data(as_text=True)
    assert "cas@amsterdam.example" in page


def test_a_contact_records_progress_on_their_own_commitment_only(client, app, auth, world):
    auth.login("wendy@westergas.example")
    page = client.get(f"{BASE}/{world['id']}").get_data(as_text=True)
    assert f'action="{BASE}/{world["id"]}/commitments/{world["own"]}/progress"' in page
    assert f"/commitments/{world['city']}/progress" not in page
    assert "Add a party" not in page and "Partij toevoegen" not in page
    assert f'href="/manage/collaborations/{world["id"]}/costs"' in page
    today = date.today().isoformat()
    prefix = f"progress-{world['own']}"
    response = post_form(
        client,
        f"{BASE}/{world['id']}/commitments/{world['own']}/progress",
        {f"{prefix}-value": "85,5", f"{prefix}-note": "Eerste meting", f"{prefix}-on": today},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#commitment-{world['own']}")
    refused = post_form(
        client,
        f"{BASE}/{world['id']}/commitments/{world['city']}/progress",
        {f"progress-{world['city']}-note": "Niet van mij", f"progress-{world['city']}-on": today},
    )
    assert refused.status_code == 403
    with app.app_context():
        updates = db.session.scalars(sa.select(ProgressUpdate)).all()
        assert [(u.commitment_id, u.value, u.note) for u in updates] == [
            (world["own"], 85.5, "Eerste meting")
        ]
        assert updates[0].author_id == db.session.scalar(
            sa.select(User.id).where(User.email == "wendy@westergas.example")
        )
    page = client.get(f"{BASE}/{world['id']}").get_data(as_text=True)
    assert "Nu 85,5 %: 48% van de weg" in page  # (100 - 85.5) / 30
    assert 'value="48"' in page


@pytest.mark.parametrize(
    ("value", "on", "link", "field", "message"),
    [
        ("veel", None, "", "value", "Schrijf een getal"),
        ("", "morgen", "", "on", "Schrijf een datum"),
        ("90", "2025-12-31", "", "on", "voor de start"),
        ("90", "future", "", "on", "in de toekomst"),
        ("90", None, "javascript:alert(1)", "link", "https://"),
        ("", None, "", "note", "waarde of schrijf"),
    ],
)
def test_bad_progress_is_refused_by_its_field_with_the_typing_kept(
    client, app, auth, world, value, on, link, field, message
):
    auth.login("wendy@westergas.example")
    on = {
        None: date.today().isoformat(),
        "future": (date.today() + timedelta(days=1)).isoformat(),
    }.get(on, on)
    prefix = f"progress-{world['own']}"
    response = post_form(
        client,
        f"{BASE}/{world['id']}/commitments/{world['own']}/progress",
        {f"{prefix}-value": value, f"{prefix}-on": on, f"{prefix}-link": link},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{prefix}-{field}-error"' in page
    assert message in page
    if value:
        assert f'value="{value}"' in page
    with app.app_context():
        assert _count(ProgressUpdate) == 0


# --- staff make and change a collaboration -------------------------------------------


def test_staff_make_a_collaboration_add_parties_and_commitments_and_publish(client, app, auth):
    with app.app_context():
        energy = make_domain()
        make_user("staff@example.org", is_programme_staff=True)
        make_user("ans@zonnedak.example", name="Ans")
        zonnedak = organisation_of(make_collective("zonnedak", "Zonnedak", domain=energy))
        city = make_organisation()
        energy_id, zonnedak_id, city_id = energy.id, zonnedak.id, city.id
    auth.login("staff@example.org")
    response = post_form(
        client,
        f"{BASE}/new",
        {
            "title": "Energiebespaarservice samen inkopen",
            "kind": "koppel",
            "status": "running",
            "goal": "Eén inkoop voor meerdere domeinen.",
            "domains": [str(energy_id)],
            "starts_on": "2026-02-01",
            "ends_on": "2026-12-31",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        collaboration = db.session.scalar(sa.select(Collaboration))
        assert collaboration.slug == "energiebespaarservice-samen-inkopen"
        assert not collaboration.is_published
        assert [d.id for d in collaboration.domains] == [energy_id]
        cid = collaboration.id
    assert response.headers["Location"].endswith(f"{BASE}/{cid}")
    publish = post_form(client, f"{BASE}/{cid}/publish")
    assert publish.status_code == 303
    assert "ten minste één partij" in client.get(publish.headers["Location"]).get_data(as_text=True)
    for organisation, contact, key in (
        (zonnedak_id, "ans@zonnedak.example", "3"),
        (city_id, "", ""),
    ):
        added = post_form(
            client,
            f"{BASE}/{cid}/parties",
            {
                "organisation": str(organisation),
                "contact_email": contact,
                "role": "uitvoering",
                "cost_key": key,
            },
        )
        assert added.status_code == 303, added.get_data(as_text=True)
    with app.app_context():
        parties = db.session.get(Collaboration, cid).parties
        assert [
            (p.organisation_id, p.contact and p.contact.email, p.cost_key) for p in parties
        ] == [
            (zonnedak_id, "ans@zonnedak.example", 3),
            (city_id, None, None),
        ]
        party_id = parties[0].id
    added = post_form(
        client,
        f"{BASE}/{cid}/commitments",
        {
            "party": str(party_id),
            "title": "100 huizen besparen",
            "baseline": "0",
            "target": "100",
            "unit": "huizen",
            "due_on": "2026-12-31",
        },
    )
    assert added.status_code == 303
    assert post_form(client, f"{BASE}/{cid}/publish").status_code == 303
    with app.app_context():
        collaboration = db.session.get(Collaboration, cid)
        assert collaboration.is_published
        assert [(c.title, c.target, c.unit) for c in collaboration.commitments] == [
            ("100 huizen besparen", 100, "huizen")
        ]
    page = client.get(f"{BASE}/{cid}").get_data(as_text=True)
    assert "Uit het register halen" in page
    assert post_form(client, f"{BASE}/{cid}/unpublish").status_code == 303
    with app.app_context():
        assert not db.session.get(Collaboration, cid).is_published


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": ""}, "title", "Geef de samenwerking een titel"),
        ({"slug": "Niet Goed"}, "slug", "kleine letters"),
        ({"slug": "afval-westergas"}, "slug", "Een andere samenwerking"),
        ({"kind": "alliance"}, "kind", "Not a valid choice"),
        ({"starts_on": "2026-03-01", "ends_on": "2026-02-28"}, "ends_on", "voor de start"),
        ({"starts_on": "2026-13-01"}, "starts_on", "Schrijf een datum"),
        ({"domains": ["9999"]}, "domains", "Kies thema’s uit de lijst"),
    ],
)
def test_a_bad_collaboration_is_refused_by_its_field(
    client, app, auth, world, data, field, message
):
    auth.login("staff@example.org")
    form = {
        "title": "Een koppel",
        "kind": "koppel",
        "status": "idea",
        "goal": "Samen iets doen",
        **data,
    }
    response = post_form(client, f"{BASE}/new", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page or (
        field == "domains" and 'aria-describedby="domains-error"' in page
    )
    if message != "Not a valid choice":
        assert message in page
    assert "Samen iets doen" in page
    with app.app_context():
        assert _count(Collaboration) == 1


def test_changing_dates_that_leave_a_commitment_out_is_refused(client, app, auth, world):
    with app.app_context():
        db.session.get(Commitment, world["own"]).due_on = date(2026, 12, 31)
        db.session.commit()
    auth.login("staff@example.org")
    assert "Westergasterrein" in client.get(f"{BASE}/{world['id']}/edit").get_data(as_text=True)
    response = post_form(
        client,
        f"{BASE}/{world['id']}/edit",
        {
            "title": "Korter",
            "kind": "green_deal",
            "status": "running",
            "starts_on": "2026-01-01",
            "ends_on": "2026-06-30",
        },
    )
    assert response.status_code == 422
    assert "Restafval −30%" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Collaboration, world["id"]).title.startswith("Minder restafval")
    response = post_form(
        client,
        f"{BASE}/{world['id']}/edit",
        {
            "title": "Minder restafval",
            "kind": "green_deal",
            "status": "finished",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Collaboration, world["id"]).status == CollaborationStatus.FINISHED


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"organisation": ""}, "organisation", "Kies een organisatie uit de lijst"),
        ({"organisation": "westergas"}, "organisation", "Kies een organisatie uit de lijst"),
        ({"contact_email": "nobody@example.org"}, "contact_email", "Er is geen account"),
        ({"contact_email": "geen-adres"}, "contact_email", "e-mailadres"),
        ({"cost_key": "0"}, "cost_key", "ten minste 1"),
        ({"cost_key": "veel"}, "cost_key", "heel getal"),
    ],
)
def test_a_bad_party_is_refused_by_its_field(client, app, auth, world, data, field, message):
    with app.app_context():
        haarlem = make_organisation("haarlem", "Gemeente Haarlem").id
    auth.login("staff@example.org")
    form = {"organisation": str(haarlem), "role": "meedenken", **data}
    response = post_form(client, f"{BASE}/{world['id']}/parties", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page
    assert message in page
    assert 'value="meedenken"' in page
    with app.app_context():
        assert len(db.session.get(Collaboration, world["id"]).parties) == 2


def test_a_party_twice_and_a_party_with_commitments_are_refused(client, app, auth, world):
    auth.login("staff@example.org")
    with app.app_context():
        city = db.session.get(Collaboration, world["id"]).parties[1].organisation_id
    response = post_form(client, f"{BASE}/{world['id']}/parties", {"organisation": str(city)})
    assert response.status_code == 422
    assert "al een partij" in response.get_data(as_text=True)
    response = post_form(client, f"{BASE}/{world['id']}/parties/{world['westergas_party']}/remove")
    assert response.status_code == 303
    assert "toezeggingen" in client.get(response.headers["Location"]).get_data(as_text=True)
    post_form(client, f"{BASE}/{world['id']}/commitments/{world['city']}/remove")
    assert (
        post_form(client, f"{BASE}/{world['id']}/parties/{world['city_party']}/remove").status_code
        == 303
    )
    with app.app_context():
        collaboration = db.session.get(Collaboration, world["id"])
        assert [p.id for p in collaboration.parties] == [world["westergas_party"]]


def test_staff_change_a_partys_contact(client, app, auth, world):
    auth.login("staff@example.org")
    url = f"{BASE}/{world['id']}/parties/{world['city_party']}"
    assert "cas@amsterdam.example" in client.get(url).get_data(as_text=True)
    response = post_form(
        client, url, {"contact_email": "wendy@westergas.example", "role": "regie", "cost_key": "5"}
    )
    assert response.status_code == 303
    with app.app_context():
        party = db.session.get(Collaboration, world["id"]).parties[1]
        assert (party.contact.email, party.role, party.cost_key) == (
            "wendy@westergas.example",
            "regie",
            5,
        )
    other = make_collaboration_id(app)
    assert client.get(f"{BASE}/{other}/parties/{world['city_party']}").status_code == 404


def _subjects_to(app, address: str) -> list[str]:
    with app.app_context():
        return db.session.scalars(
            sa.select(OutboxMessage.subject)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id)
        ).all()


def test_a_new_contact_is_told_in_their_language_once(client, app, auth, world):
    with app.app_context():
        db.session.scalar(
            sa.select(User).where(User.email == "wendy@westergas.example")
        ).locale = "en"
        db.session.commit()
    auth.login("staff@example.org")
    url = f"{BASE}/{world['id']}/parties/{world['city_party']}"
    for _twice in range(2):
        assert (
            post_form(client, url, {"contact_email": "wendy@westergas.example"}).status_code == 303
        )
    assert _subjects_to(app, "wendy@westergas.example") == [
        "You are the contact of Gemeente Amsterdam in Minder restafval op het Westergasterrein"
    ]
    with app.app_context():
        [mail] = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.to_address == "wendy@westergas.example")
        ).all()
        assert f"http://localhost/manage/collaborations/{world['id']}" in mail.body_text
    # Back to Cas, who speaks Dutch; a party without a contact tells nobody.
    post_form(client, url, {"contact_email": "cas@amsterdam.example"})
    assert _subjects_to(app, "cas@amsterdam.example") == [
        "Je bent contactpersoon van Gemeente Amsterdam in Minder restafval op het Westergasterrein"
    ]
    post_form(client, url, {"contact_email": ""})
    assert len(_subjects_to(app, "cas@amsterdam.example")) == 1


def make_collaboration_id(app) -> int:
    with app.app_context():
        return make_collaboration("ander", parties=[make_organisation("y", "Y")]).id


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"party": ""}, "party", "Kies een van de partijen"),
        ({"title": ""}, "title", "Zeg wat er beloofd wordt"),
        ({"baseline": "100"}, "target", "startwaarde als een doel"),
        ({"baseline": "70", "target": "70"}, "target", "moet anders zijn"),
        ({"baseline": "1.000,5"}, "baseline", "Schrijf een getal"),
        ({"due_on": "2025-12-31"}, "due_on", "voor de start"),
    ],
)
def test_a_bad_commitment_is_refused_by_its_field(client, app, auth, world, data, field, message):
    auth.login("staff@example.org")
    form = {
        "party": str(world["westergas_party"]),
        "title": "Hergebruik",
        "description": "Statafels delen",
        **data,
    }
    response = post_form(client, f"{BASE}/{world['id']}/commitments", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page
    assert message in page
    assert "Statafels delen" in page
    with app.app_context():
        assert _count(Commitment) == 2


def test_staff_change_and_remove_a_commitment_and_moderate_progress(client, app, auth, world):
    auth.login("staff@example.org")
    url = f"{BASE}/{world['id']}/commitments/{world['own']}"
    assert 'value="100"' in client.get(url).get_data(as_text=True)
    response = post_form(
        client,
        url,
        {
            "party": str(world["westergas_party"]),
            "title": "Restafval −40%",
            "baseline": "100",
            "target": "60",
            "unit": "%",
        },
    )
    assert response.status_code == 303
    prefix = f"progress-{world['own']}"
    post_form(
        client,
        f"{url}/progress",
        {f"{prefix}-value": "80", f"{prefix}-on": date.today().isoformat()},
    )
    with app.app_context():
        update = db.session.scalar(sa.select(ProgressUpdate))
        assert db.session.get(Commitment, world["own"]).target == 60
    assert post_form(client, f"{BASE}/{world['id']}/updates/{update.id}/remove").status_code == 303
    assert post_form(client, f"{url}/remove").status_code == 303
    with app.app_context():
        assert _count(ProgressUpdate) == 0
        assert _count(Commitment) == 1
    assert post_form(client, f"{BASE}/{world['id']}/updates/{update.id}/remove").status_code == 404


def test_staff_link_an_event_as_a_meeting_of_the_collaboration(client, app, auth, world):
    with app.app_context():
        session_id = make_event("co-creatie", "Co-creatiesessie afval").id
    auth.login("staff@example.org")
    page = client.get(f"{BASE}/{world['id']}").get_data(as_text=True)
    assert "Co-creatiesessie afval" in page
    assert post_form(client, f"{BASE}/{world['id']}/events", {"event": "9999"}).status_code == 422
    assert (
        post_form(client, f"{BASE}/{world['id']}/events", {"event": str(session_id)}).status_code
        == 303
    )
    with app.app_context():
        assert db.session.get(Event, session_id).collaboration_id == world["id"]
    page = client.get(f"{BASE}/{world['id']}").get_data(as_text=True)
    assert 'href="/events/co-creatie"' in page
    other = make_collaboration_id(app)
    assert post_form(client, f"{BASE}/{other}/events/{session_id}/unlink").status_code == 404
    assert post_form(client, f"{BASE}/{world['id']}/events/{session_id}/unlink").status_code == 303
    with app.app_context():
        assert db.session.get(Event, session_id).collaboration_id is None


def test_the_list_takes_the_same_queries_for_many_collaborations(client, app, auth, count_queries):
    with app.app_context():
        make_user("staff@example.org", is_programme_staff=True)
        city = make_organisation()
        department = make_organisation("afval", "Afval", kind="department", parent=city)
        collective = organisation_of(make_collective())

        def add(number: int) -> None:
            for n in range(number):
                make_collaboration(f"c-{n}-{number}", parties=[department, collective, city])

        add(2)
    auth.login("staff@example.org")
    with count_queries as few:
        assert client.get(f"{BASE}/").status_code == 200
    with app.app_context():
        add(10)
    with count_queries as many:
        page = client.get(f"{BASE}/").get_data(as_text=True)
    assert many.count == few.count
    assert page.count("Afval, Gemeente Amsterdam, Zonnedak, Gemeente Amsterdam") == 12


# --- the programme-staff role ----------------------------------------------------------


def test_admins_give_and_take_the_programme_staff_role(client, app, auth):
    with app.app_context():
        make_admin()
        make_user("official@amsterdam.example", name="Olivia")
    auth.login("official@amsterdam.example")
    assert client.get("/admin/programme-staff/").status_code == 403
    auth.logout()
    auth.login("admin@example.org")
    refused = post_form(client, "/admin/programme-staff/", {"email": "nobody@example.org"})
    assert refused.status_code == 422
    assert 'value="nobody@example.org"' in refused.get_data(as_text=True)
    response = post_form(client, "/admin/programme-staff/", {"email": "Official@Amsterdam.example"})
    assert response.status_code == 303
    assert "Olivia" in client.get("/admin/programme-staff/").get_data(as_text=True)
    with app.app_context():
        olivia = db.session.scalar(
            sa.select(User).where(User.email == "official@amsterdam.example")
        )
        assert olivia.is_programme_staff
        assert _count(AuditEntry, AuditEntry.action == "programme_staff.add") == 1
    again = post_form(client, "/admin/programme-staff/", {"email": "official@amsterdam.example"})
    assert again.status_code == 422
    assert post_form(client, f"/admin/programme-staff/{olivia.id}/remove").status_code == 303
    with app.app_context():
        assert not db.session.get(User, olivia.id).is_programme_staff
        assert _count(AuditEntry, AuditEntry.action == "programme_staff.remove") == 1


def test_a_refused_programme_staff_form_costs_the_same_queries_for_many(
    client, app, auth, count_queries
):
    """The page drawn again after a refusal reads the staff list afresh (in one query),
    not row by row after the rollback."""
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    counts = []
    for added in (2, 6):  # 2 programme staff, then 8
        with app.app_context():
            for number in range(added):
                make_user(f"staff-{added}-{number}@example.org", is_programme_staff=True)
        client.get("/admin/programme-staff/")  # the session settled before counting
        with count_queries as counted:
            refused = post_form(client, "/admin/programme-staff/", {"email": "nobody@example.org"})
        assert refused.status_code == 422
        counts.append(counted.count)
    few, many = counts
    assert few == many, f"{few} queries with 2 staff, {many} with 8"


def test_the_command_gives_the_programme_staff_role(app, runner):
    with app.app_context():
        make_user("official@amsterdam.example")
    result = runner.invoke(args=["coop", "programme-staff", "official@amsterdam.example", "yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User.is_programme_staff))
    result = runner.invoke(args=["coop", "programme-staff", "official@amsterdam.example", "no"])
    assert result.exit_code == 0
    with app.app_context():
        assert not db.session.scalar(sa.select(User.is_programme_staff))
    result = runner.invoke(args=["coop", "programme-staff", "nobody@example.org", "yes"])
    assert result.exit_code != 0


def test_the_account_page_leads_contacts_and_staff_to_their_collaborations(client, auth, world):
    link = 'href="/manage/collaborations/"'
    auth.login("member@example.org")
    assert link not in client.get("/account/").get_data(as_text=True)
    auth.logout()
    for email in ("wendy@westergas.example", "staff@example.org"):
        auth.login(email)
        assert link in client.get("/account/").get_data(as_text=True)
        auth.logout()


def test_a_collaborations_page_takes_the_same_queries_for_many_commitments(
    client, app, auth, world, count_queries
):
    def add(number: int) -> None:
        with app.app_context():
            collaboration = db.session.get(Collaboration, world["id"])
            for n in range(number):
                party = collaboration.parties[n % 2]
                commitment = make_commitment(party, f"Toezegging {number}-{n}")
                make_progress(commitment, 90, date(2026, 2, 1), note="Gemeten")
                make_progress(commitment, None, date(2026, 3, 1), note="Gesprek")

    add(1)
    for email in ("staff@example.org", "wendy@westergas.example"):
        auth.login(email)
        with count_queries as few:
            assert client.get(f"{BASE}/{world['id']}").status_code == 200
        add(5)
        with count_queries as many:
            page = client.get(f"{BASE}/{world['id']}").get_data(as_text=True)
        assert many.count == few.count, email
        assert page.count("Gesprek") >= 6
        auth.logout()
