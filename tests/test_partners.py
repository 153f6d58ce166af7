"""Who acts for an organisation and who records progress (services/partners.py), and a
commitment's progress toward its target."""

from datetime import date

import pytest
from flask_login import AnonymousUserMixin

from cooperative.extensions import db
from cooperative.models import CollaborationKind, utcnow
from cooperative.services import partners
from tests.collaboration_factories import (
    make_collaboration,
    make_commitment,
    make_organisation,
    make_progress,
    organisation_of,
)
from tests.factories import make_collective, make_organiser, make_user


@pytest.fixture(autouse=True)
def ctx(app):
    with app.app_context():
        yield


def test_people_and_a_collectives_organisers_act_for_it():
    official = make_user("ambtenaar@amsterdam.example")
    city = make_organisation(people=[official])
    collective = make_collective()
    organiser = make_organiser(collective)
    zonnedak = organisation_of(collective)
    stranger = make_user("stranger@example.org")

    assert partners.organisation_ids_of(official) == {city.id}
    assert partners.organisation_ids_of(organiser) == {zonnedak.id}
    assert partners.acts_for(organiser, zonnedak)
    assert not partners.acts_for(organiser, city)
    assert not partners.acts_for(stranger, city)
    assert zonnedak.title == "Zonnedak"


def test_a_department_is_named_with_its_municipality():
    city = make_organisation()
    department = make_organisation(
        slug="afval", name="Afval en Grondstoffen", kind="department", parent=city
    )
    assert department.title == "Afval en Grondstoffen, Gemeente Amsterdam"


def test_progress_is_recorded_by_the_partys_contact_or_programme_staff():
    contact = make_user("contact@westergas.example")
    other_contact = make_user("contact@amsterdam.example")
    staff = make_user("staff@example.org", is_programme_staff=True)
    westergas = make_organisation("westergas", "Westergasfabriek", kind="business")
    city = make_organisation()
    collaboration = make_collaboration(
        kind=CollaborationKind.GREEN_DEAL, parties=[(westergas, contact), (city, other_contact)]
    )
    commitment = make_commitment(collaboration.parties[0])

    assert partners.may_record_progress(contact, commitment)
    assert partners.may_record_progress(staff, commitment)
    assert not partners.may_record_progress(other_contact, commitment)
    assert not partners.may_record_progress(make_user("member@example.org"), commitment)
    assert db.session.scalars(partners.contact_collaborations(contact)).all() == [collaboration]


def test_progress_runs_from_the_baseline_to_the_target_either_way():
    party_of = make_collaboration(parties=[make_organisation()]).parties[0]
    waste = make_commitment(party_of, baseline=100, target=70)
    assert waste.progress is None  # not measured yet
    make_progress(waste, 85, date(2026, 6, 1))
    make_progress(waste, None, date(2026, 7, 1), note="Gesprek met de huurders")
    db.session.refresh(waste)
    assert waste.latest_value == 85
    assert waste.progress == 0.5
    make_progress(waste, 60, date(2026, 9, 1))
    db.session.refresh(waste)
    assert waste.progress == 1.0  # beyond the target counts as reached

    homes = make_commitment(party_of, "Woningen geïsoleerd", baseline=0, target=200, unit="")
    make_progress(homes, 50, date(2026, 6, 1))
    db.session.refresh(homes)
    assert homes.progress == 0.25
    unmeasured = make_commitment(party_of, "Een plan", baseline=None, target=None)
    make_progress(unmeasured, 3, date(2026, 6, 1))
    db.session.refresh(unmeasured)
    assert unmeasured.progress is None


def test_only_published_collaborations_are_public():
    shown = make_collaboration(slug="shown")
    make_collaboration(slug="draft", published=False)
    assert db.session.scalars(partners.public_collaborations()).all() == [shown]


def test_the_back_office_opens_for_staff_and_the_parties_contacts():
    contact = make_user("contact@westergas.example")
    staff = make_user("staff@example.org", is_programme_staff=True)
    member = make_user("member@example.org")
    collaboration = make_collaboration(
        parties=[(make_organisation("westergas", "Westergasfabriek"), contact)], published=False
    )
    assert partners.may_open_back_office(contact, collaboration)
    assert partners.may_open_back_office(staff, collaboration)
    assert not partners.may_open_back_office(member, collaboration)
    assert [partners.works_on_collaborations(u) for u in (contact, staff, member)] == [
        True,
        True,
        False,
    ]


def test_a_draft_is_seen_by_programme_staff_and_its_contacts_only():
    contact = make_user("contact@example.org")
    staff = make_user("staff@example.org", is_programme_staff=True)
    stranger = make_user("stranger@example.org")
    draft = make_collaboration(parties=[(make_organisation(), contact)], published=False)

    assert partners.may_see_collaboration(contact, draft)
    assert partners.may_see_collaboration(staff, draft)
    assert not partners.may_see_collaboration(stranger, draft)
    assert not partners.may_see_collaboration(AnonymousUserMixin(), draft)
    draft.published_at = utcnow()
    assert partners.may_see_collaboration(stranger, draft)
    assert partners.may_see_collaboration(AnonymousUserMixin(), draft)
