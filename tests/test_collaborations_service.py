"""The collaborations' back office as services (services/collaborations.py and
services/commitments.py): a collaboration's dates and address, its parties, commitments
(dates in order, measurable targets), progress (only by the responsible party's contact or
staff, dates not before the start nor in the future), publishing, events, and the
programme-staff role."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.orm.attributes import set_committed_value

from cooperative.extensions import db
from cooperative.models import (
    Collaboration,
    CollaborationKind,
    CollaborationParty,
    CollaborationStatus,
    CostSplit,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.services import collaboration_costs, commitments
from cooperative.services import collaborations as service
from cooperative.services.collaboration_costs import CostDetails
from cooperative.services.collaborations import CollaborationPlan
from cooperative.services.commitments import CommitmentPlan, ProgressPlan
from tests.collaboration_factories import (
    make_collaboration,
    make_commitment,
    make_organisation,
    make_progress,
)
from tests.factories import make_domain, make_event, make_user


@pytest.fixture(autouse=True)
def ctx(app):
    with app.app_context():
        yield


def _refused(change, field=None) -> Refused:
    with pytest.raises(Refused) as refused:
        change()
    db.session.rollback()
    if field is not None:
        assert refused.value.field == field
    return refused.value


def _plan(**kw) -> CollaborationPlan:
    return CollaborationPlan(
        title=kw.pop("title", "Energiebespaarservice inkopen"),
        kind=kw.pop("kind", CollaborationKind.KOPPEL),
        **kw,
    )


# --- the collaboration ---------------------------------------------------------------


def test_a_new_collaboration_is_a_draft_with_an_address_from_its_title():
    energy = make_domain()
    before = utcnow()
    collaboration = service.save_collaboration(
        _plan(domain_ids=(energy.id,), starts_on=date(2027, 1, 1), ends_on=date(2027, 1, 1))
    )
    db.session.commit()
    assert collaboration.slug == "energiebespaarservice-inkopen"
    assert not collaboration.is_published
    assert collaboration.status == CollaborationStatus.IDEA
    assert collaboration.domains == [energy]
    assert collaboration.updated_at >= before
    again = service.save_collaboration(_plan())
    assert again.slug == "energiebespaarservice-inkopen-2"


def test_dates_and_addresses_are_refused_when_wrong():
    _refused(
        lambda: service.save_collaboration(
            _plan(starts_on=date(2027, 2, 1), ends_on=date(2027, 1, 31))
        ),
        "ends_on",
    )
    _refused(lambda: service.save_collaboration(_plan(slug="Niet Goed")), "slug")
    make_collaboration(slug="bezet")
    _refused(lambda: service.save_collaboration(_plan(slug="bezet")), "slug")
    _refused(lambda: service.save_collaboration(_plan(domain_ids=(9999,))), "domains")


def test_new_dates_may_not_leave_a_commitment_or_progress_outside():
    collaboration = make_collaboration(parties=[make_organisation()], starts_on=date(2026, 1, 1))
    commitment = make_commitment(collaboration.parties[0], due_on=date(2026, 12, 31))
    make_progress(commitment, 90, date(2026, 3, 1))
    too_short = _plan(starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 30))
    refusal = _refused(lambda: service.save_collaboration(too_short, collaboration), "ends_on")
    assert "2026-12-31" in str(refusal)
    late_start = _plan(starts_on=date(2026, 3, 2))
    _refused(lambda: service.save_collaboration(late_start, collaboration), "starts_on")
    # The last day itself is inside.
    service.save_collaboration(
        _plan(starts_on=date(2026, 3, 1), ends_on=date(2026, 12, 31)), collaboration
    )


def test_publishing_needs_a_party_and_is_undone_by_unpublishing():
    collaboration = make_collaboration(published=False)
    _refused(lambda: service.publish(collaboration))
    service.add_party(collaboration, make_organisation())
    service.publish(collaboration)
    db.session.commit()
    assert collaboration.is_published
    _refused(lambda: service.publish(collaboration))
    service.unpublish(collaboration)
    db.session.commit()
    assert not collaboration.is_published
    _refused(lambda: service.unpublish(collaboration))


# --- parties -------------------------------------------------------------------------


def test_a_party_has_a_contact_by_account_and_is_added_once():
    contact = make_user("contact@westergas.example")
    city = make_organisation()
    collaboration = make_collaboration(published=False)
    party = service.add_party(collaboration, city, "contact@westergas.EXAMPLE", "uitvoering", 3)
    db.session.commit()
    assert (party.contact, party.role, party.cost_key) == (contact, "uitvoering", 3)
    _refused(lambda: service.add_party(collaboration, city), "organisation")
    other = make_organisation("haarlem", "Gemeente Haarlem")
    _refused(lambda: service.add_party(collaboration, other, "nobody@example.org"), "contact_email")
    _refused(lambda: service.add_party(collaboration, other, cost_key=0), "cost_key")
    party = service.add_party(collaboration, other)
    assert party.contact is None and party.cost_key is None


def test_a_party_added_by_someone_else_meanwhile_is_refused_not_a_500():
    collaboration = make_collaboration(published=False)
    city = make_organisation()
    db.session.execute(
        sa.insert(CollaborationParty).values(
            collaboration_id=collaboration.id, organisation_id=city.id, role=""
        )
    )
    # As this request read them, before the other one's party was saved.
    set_committed_value(collaboration, "parties", [])
    _refused(lambda: service.add_party(collaboration, city), "organisation")


def test_a_party_with_commitments_stays_and_one_that_leaves_leaves_its_costs_to_the_others():
    westergas = make_organisation("westergas", "Westergasfabriek", kind="business")
    city = make_organisation()
    pure = make_organisation("pure", "Pure", kind="business")
    collaboration = make_collaboration(parties=[westergas, city, pure])
    promising, paying, leaving = collaboration.parties
    make_commitment(promising)
    cost = collaboration_costs.save_cost(
        collaboration, CostDetails("Projectleider", 10_000, False, CostSplit.EQUAL)
    )
    db.session.commit()
    assert [share.amount_cents for share in cost.shares] == [3334, 3333, 3333]
    commitments_first = _refused(lambda: service.remove_party(promising))
    with force_locale("en"):  # whatever language an earlier test left
        assert "has commitments" in str(commitments_first)
    service.remove_party(leaving)
    db.session.commit()
    assert [p.organisation.slug for p in collaboration.parties] == [
        "westergas",
        "gemeente-amsterdam",
    ]
    db.session.refresh(cost)
    assert sorted(share.amount_cents for share in cost.shares) == [5000, 5000]
    # Once something is paid towards a cost, its parties stay.
    admin = make_user("staff@example.org", is_programme_staff=True)
    share = next(share for share in cost.shares if share.party_id == paying.id)
    collaboration_costs.record_payment(share, share.amount_cents, admin)
    db.session.commit()
    paid = _refused(lambda: service.remove_party(paying))
    with force_locale("en"):
        assert "has been paid" in str(paid)
    assert len(db.session.get(Collaboration, collaboration.id).parties) == 2


# --- commitments ---------------------------------------------------------------------


def test_a_commitment_is_due_inside_the_collaborations_dates():
    collaboration = make_collaboration(
        parties=[make_organisation()], starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31)
    )
    party = collaboration.parties[0]

    def plan(**kw):
        return CommitmentPlan(party_id=party.id, title="Restafval −30%", **kw)

    _refused(
        lambda: commitments.save_commitment(collaboration, plan(due_on=date(2025, 12, 31))),
        "due_on",
    )
    _refused(
        lambda: commitments.save_commitment(collaboration, plan(due_on=date(2027, 1, 1))), "due_on"
    )
    first = commitments.save_commitment(collaboration, plan(due_on=date(2026, 1, 1)))
    last = commitments.save_commitment(
        collaboration, plan(due_on=date(2026, 12, 31), baseline=100, target=70, unit="%")
    )
    assert [first.position, last.position] == [1, 2]
    assert last.is_measurable and not first.is_measurable


def test_a_measurable_target_needs_a_baseline_and_a_target_that_differ():
    collaboration = make_collaboration(parties=[make_organisation()])
    party_id = collaboration.parties[0].id

    def plan(**kw):
        return CommitmentPlan(party_id=party_id, title="Restafval", **kw)

    _refused(lambda: commitments.save_commitment(collaboration, plan(baseline=100)), "target")
    _refused(lambda: commitments.save_commitment(collaboration, plan(target=70)), "baseline")
    _refused(
        lambda: commitments.save_commitment(collaboration, plan(baseline=70, target=70)), "target"
    )
    assert commitments.save_commitment(collaboration, plan(baseline=0, target=12)).is_measurable


def test_a_commitment_belongs_to_a_party_of_its_own_collaboration():
    collaboration = make_collaboration(parties=[make_organisation()])
    elsewhere = make_collaboration("elders", parties=[make_organisation("pure", "Pure")])
    plan = CommitmentPlan(party_id=elsewhere.parties[0].id, title="Iets")
    _refused(lambda: commitments.save_commitment(collaboration, plan), "party")


# --- progress ------------------------------------------------------------------------


@pytest.fixture
def waste():
    """The Westergas Green Deal: the Westergasfabriek promises −30% residual waste."""
    contact = make_user("contact@westergas.example")
    city_contact = make_user("contact@amsterdam.example")
    collaboration = make_collaboration(
        parties=[
            (make_organisation("westergas", "Westergasfabriek", kind="business"), contact),
            (make_organisation(), city_contact),
        ],
        starts_on=date(2026, 1, 1),
    )
    return make_commitment(collaboration.parties[0])


NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


def test_progress_is_recorded_by_the_partys_contact_and_staff_only(waste):
    contact = waste.party.contact
    others = [
        waste.collaboration.parties[1].contact,
        make_user("member@example.org"),
        make_user("organiser@example.org"),
    ]
    staff = make_user("staff@example.org", is_programme_staff=True)
    plan = ProgressPlan(on=date(2026, 6, 1), value=90, note="Eerste meting")
    for person in others:
        _refused(lambda person=person: commitments.record_progress(waste, person, plan, NOW))
    _refused(
        lambda: commitments.record_progress(
            waste, waste.collaboration.parties[1].contact, plan, NOW
        )
    )
    before = waste.collaboration.updated_at
    update = commitments.record_progress(waste, contact, plan, NOW)
    assert (update.value, update.author_id) == (90, contact.id)
    assert waste.collaboration.updated_at == NOW != before
    commitments.record_progress(waste, staff, ProgressPlan(on=date(2026, 6, 15), value=80), NOW)
    db.session.commit()
    assert waste.latest_value == 80


def test_a_progress_date_lies_between_the_start_and_today(waste):
    contact = waste.party.contact
    record = lambda on: commitments.record_progress(  # noqa: E731
        waste, contact, ProgressPlan(on=on, value=95), NOW
    )
    _refused(lambda: record(date(2025, 12, 31)), "on")
    _refused(lambda: record(date(2026, 6, 16)), "on")
    record(date(2026, 1, 1))
    record(date(2026, 6, 15))  # today in Amsterdam


def test_a_progress_update_says_something_and_links_to_the_web_only(waste):
    contact = waste.party.contact
    on = date(2026, 6, 1)
    _refused(lambda: commitments.record_progress(waste, contact, ProgressPlan(on=on), NOW), "note")
    for link in ("javascript:alert(1)", "ftp://x.example/a", "https://", "www.example.org"):
        plan = ProgressPlan(on=on, note="Zie het verslag", link=link)
        _refused(lambda plan=plan: commitments.record_progress(waste, contact, plan, NOW), "link")
    plan = ProgressPlan(on=on, note="Zie het verslag", link="https://westergas.example/afval")
    assert commitments.record_progress(waste, contact, plan, NOW).link.startswith("https://")


def test_a_value_needs_a_measurable_target(waste):
    talk = make_commitment(waste.party, "Gesprekken met huurders", baseline=None, target=None)
    contact = waste.party.contact
    plan = ProgressPlan(on=date(2026, 6, 1), value=3)
    _refused(lambda: commitments.record_progress(talk, contact, plan, NOW), "value")
    plan = ProgressPlan(on=date(2026, 6, 1), note="Drie gesprekken gevoerd")
    assert commitments.record_progress(talk, contact, plan, NOW).value is None


def test_removing_a_commitment_or_an_update_is_a_change_to_follow(waste):
    update = make_progress(waste, 90, date(2026, 2, 1))
    collaboration = waste.collaboration
    collaboration.updated_at = datetime(2026, 1, 1, tzinfo=UTC)
    commitments.remove_progress(update)
    assert waste.updates == [] and collaboration.updated_at > datetime(2026, 1, 1, tzinfo=UTC)
    commitments.remove_commitment(waste)
    db.session.commit()
    assert collaboration.commitments == []


# --- events and the role -------------------------------------------------------------


def test_an_event_is_linked_to_one_collaboration():
    koppel = make_collaboration(parties=[make_organisation()], starts_on=None)
    other = make_collaboration("ander", parties=[make_organisation("pure", "Pure")])
    session = make_event("co-creatie", "Co-creatiesessie")
    assert session in service.linkable_events(koppel)
    service.link_event(koppel, session)
    db.session.commit()
    assert service.linked_events(koppel) == [session]
    assert session not in service.linkable_events(other)
    _refused(lambda: service.link_event(koppel, session), "event")
    _refused(lambda: service.link_event(other, session), "event")
    service.unlink_event(koppel, session)
    assert service.linked_events(koppel) == []


def test_an_old_event_is_not_offered():
    koppel = make_collaboration(parties=[make_organisation()], starts_on=date.today())
    old = make_event("oud", "Oud", starts_in=timedelta(days=-400))
    assert old not in service.linkable_events(koppel)


def test_admins_make_programme_staff_by_account():
    person = make_user("staff@example.org")
    _refused(lambda: service.make_programme_staff("nobody@example.org"), "email")
    assert service.make_programme_staff("staff@example.org") == person
    db.session.commit()
    assert person.runs_programme
    _refused(lambda: service.make_programme_staff("staff@example.org"), "email")
    assert service.programme_staff() == [person]
    service.end_programme_staff(person)
    assert not person.runs_programme and service.programme_staff() == []
