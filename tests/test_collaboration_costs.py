"""A collaboration's shared costs (services/collaboration_costs.py): split over its
parties equally or by key, exact to the cent, each share with its reference; the split
kept once something is paid; a transfer recorded by staff; who sees which share."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    CollaborationKind,
    CollaborationParty,
    CostShare,
    CostSplit,
    OutboxMessage,
    Payment,
    PaymentProvider,
    PaymentStatus,
    SharedCost,
)
from cooperative.refusals import Refused
from cooperative.services import collaboration_costs as costs
from cooperative.services import partners
from cooperative.services.collaboration_costs import CostDetails
from tests.collaboration_factories import make_collaboration, make_organisation
from tests.factories import make_user

CLIMATE = "Klimaatacties van het cluster"


@pytest.fixture(autouse=True)
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def cluster():
    """Three municipalities with a contact each: Zaanstad, Oostzaan, Wormerland."""
    towns = [
        ("zaanstad", "Gemeente Zaanstad", 160_000),
        ("oostzaan", "Gemeente Oostzaan", 9_800),
        ("wormerland", "Gemeente Wormerland", 16_500),
    ]
    parties = []
    for slug, name, _inhabitants in towns:
        contact = make_user(f"contact@{slug}.example", name=f"Contact {name}")
        parties.append((make_organisation(slug, name), contact))
    collaboration = make_collaboration(
        "klimaatcluster-zaanstreek", "Klimaatcluster Zaanstreek", CollaborationKind.CLUSTER, parties
    )
    for party, (_slug, _name, inhabitants) in zip(collaboration.parties, towns, strict=True):
        party.cost_key = inhabitants
    db.session.commit()
    return collaboration


def equal(total=1_000_000, **kw) -> CostDetails:
    return CostDetails(CLIMATE, total, False, CostSplit.EQUAL, **kw)


def by_inhabitants(total=1_000_000, **kw) -> CostDetails:
    return CostDetails(CLIMATE, total, False, CostSplit.BY_KEY, key_name="inwoners", **kw)


def amounts(cost: SharedCost) -> list[int]:
    return [share.amount_cents for share in cost.shares]


def test_an_equal_split_adds_up_to_the_total_with_a_reference_each(cluster):
    cost = costs.save_cost(cluster, equal())
    db.session.commit()
    assert amounts(cost) == [333_334, 333_333, 333_333]
    assert [share.party for share in cost.shares] == cluster.parties
    references = [share.reference for share in cost.shares]
    assert references[0] == f"MEENTCOOP-K{cost.id:04d}-{cluster.parties[0].id:04d}"
    assert len(set(references)) == 3
    assert all(share.due_cents == share.amount_cents for share in cost.shares)
    assert cost.key_name == ""  # no key for an equal split


def test_a_split_by_inhabitants(cluster):
    cost = costs.save_cost(cluster, by_inhabitants())
    db.session.commit()
    assert amounts(cost) == [858_830, 52_603, 88_567]
    assert cost.key_name == "inwoners" and cost.split == CostSplit.BY_KEY


@pytest.mark.parametrize("bad", [None, 0, -5])
def test_a_split_by_key_refuses_a_party_without_a_key_above_zero(cluster, bad):
    cluster.parties[1].cost_key = bad
    db.session.commit()
    with pytest.raises(Refused) as refused:
        costs.save_cost(cluster, by_inhabitants())
    assert refused.value.field == "keys-1-key"
    assert "Gemeente Oostzaan" in str(refused.value)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SharedCost.id))) == 0
    # An equal split needs no key.
    assert amounts(costs.save_cost(cluster, equal(300))) == [100, 100, 100]


def test_keys_typed_with_the_cost_are_kept_on_the_parties(cluster):
    first, second, third = cluster.parties
    cost = costs.save_cost(cluster, by_inhabitants(1000, keys={first.id: 1, second.id: 3}))
    assert (first.cost_key, second.cost_key, third.cost_key) == (1, 3, 16_500)
    assert sum(amounts(cost)) == 1000


@pytest.mark.parametrize("total", [0, -100])
def test_a_total_of_nothing_is_refused(cluster, total):
    with pytest.raises(Refused) as refused:
        costs.save_cost(cluster, equal(total))
    assert refused.value.field == "total"


def test_a_collaboration_without_parties_has_no_cost_to_split():
    lonely = make_collaboration("alleen", parties=[])
    with pytest.raises(Refused) as refused:
        costs.save_cost(lonely, equal())
    assert refused.value.field == "split"


def test_a_new_split_keeps_each_partys_reference_and_follows_the_parties(cluster):
    cost = costs.save_cost(cluster, equal(900))
    db.session.commit()
    references = {share.party_id: share.reference for share in cost.shares}
    assert costs.split_is_current(cost)
    # Landsmeer joins; the split waits until staff save the cost again.
    landsmeer = make_organisation("landsmeer", "Gemeente Landsmeer")
    cluster.parties.append(CollaborationParty(organisation=landsmeer))
    db.session.commit()
    assert not costs.split_is_current(cost) and amounts(cost) == [300, 300, 300]
    costs.save_cost(cluster, equal(900), cost)
    db.session.commit()
    assert amounts(cost) == [225, 225, 225, 225]
    assert costs.split_is_current(cost)
    kept = [share for share in cost.shares if share.party_id in references]
    assert len(kept) == 3 and all(references[s.party_id] == s.reference for s in kept)


def test_once_paid_the_amounts_stay_but_the_description_may_change(cluster):
    staff = make_user("staff@example.org", is_programme_staff=True)
    cost = costs.save_cost(cluster, equal(900))
    db.session.commit()
    costs.record_payment(cost.shares[0], 300, staff)
    db.session.commit()
    for change in (equal(1200), by_inhabitants(900), CostDetails(CLIMATE, 900, True, "equal")):
        with pytest.raises(Refused) as refused:
            costs.save_cost(cluster, change, cost)
        assert refused.value.field == "total"
        db.session.rollback()
    renamed = CostDetails("Klimaatacties 2026", 900, False, CostSplit.EQUAL)
    costs.save_cost(cluster, renamed, cost)
    db.session.commit()
    assert cost.description == "Klimaatacties 2026" and amounts(cost) == [300, 300, 300]
    with pytest.raises(Refused):
        costs.remove_cost(cost)


def test_a_transfer_must_be_exactly_what_is_due_and_is_counted_once(cluster):
    staff = make_user("staff@example.org", is_programme_staff=True)
    cost = costs.save_cost(cluster, equal(1_000_000))
    db.session.commit()
    share = cost.shares[0]
    for wrong in (100, 333_333, 333_335):
        with pytest.raises(Refused) as refused:
            costs.record_payment(share, wrong, staff)
        assert refused.value.field == "amount"
        assert "€\xa03.333,34" in str(refused.value)
        db.session.rollback()
    payment = costs.record_payment(share, 333_334, staff)
    db.session.commit()
    assert (share.paid_cents, share.due_cents) == (333_334, 0)
    assert payment.provider == PaymentProvider.BANK_TRANSFER
    assert payment.status == PaymentStatus.PAID and payment.recorded_by_id == staff.id
    assert costs.payments_of(share) == [payment]
    with pytest.raises(Refused):
        costs.record_payment(share, 333_334, staff)


def test_removing_a_cost_nothing_was_paid_on_takes_its_shares(cluster):
    cost = costs.save_cost(cluster, equal())
    db.session.commit()
    costs.remove_cost(cost)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(CostShare.id))) == 0


def test_a_partys_contact_sees_and_pays_only_its_own_share(cluster):
    staff = make_user("staff@example.org", is_programme_staff=True)
    stranger = make_user("stranger@example.org")
    cost = costs.save_cost(cluster, equal())
    db.session.commit()
    zaanstad, oostzaan = cluster.parties[0].contact, cluster.parties[1].contact
    assert partners.shown_shares(zaanstad, cost.shares) == [cost.shares[0]]
    assert partners.shown_shares(staff, cost.shares) == cost.shares
    assert partners.shown_shares(stranger, cost.shares) == []
    assert partners.may_open_back_office(oostzaan, cluster)
    assert partners.may_open_back_office(staff, cluster)
    assert not partners.may_open_back_office(stranger, cluster)
    assert partners.may_pay(zaanstad, cost.shares[0])
    assert not partners.may_pay(zaanstad, cost.shares[1])
    assert not partners.may_pay(staff, cost.shares[0])


def test_a_party_leaving_splits_the_costs_again_over_the_others(cluster):
    cost = costs.save_cost(cluster, equal(900))
    keyed = costs.save_cost(cluster, by_inhabitants(1000))
    db.session.commit()
    leaving = cluster.parties[2]
    costs.party_leaves(leaving)
    cluster.parties.remove(leaving)
    db.session.commit()
    assert amounts(cost) == [450, 450]
    assert sum(amounts(keyed)) == 1000 and len(keyed.shares) == 2
    assert costs.split_is_current(cost) and costs.split_is_current(keyed)


def test_a_party_cannot_leave_once_paid_into_or_while_paying_online(cluster):
    staff = make_user("staff@example.org", is_programme_staff=True)
    cost = costs.save_cost(cluster, equal(900))
    db.session.commit()
    paying = cost.shares[2]
    db.session.add(
        Payment(
            provider=PaymentProvider.STRIPE,
            status=PaymentStatus.OPEN,
            amount_cents=300,
            cost_share=paying,
        )
    )
    db.session.commit()
    with pytest.raises(Refused) as refused:
        costs.party_leaves(paying.party)
    assert "Gemeente Wormerland" in str(refused.value)
    db.session.rollback()
    costs.record_payment(cost.shares[0], 300, staff)
    db.session.commit()
    with pytest.raises(Refused):
        costs.party_leaves(cluster.parties[1])


def test_no_mail_for_a_share_whose_party_has_no_contact_or_is_gone(cluster):
    """Telling a party its share needs its contact: without one (or without the party,
    whose share row outlives it on SQLite), nothing is queued and nothing breaks."""
    cost = costs.save_cost(cluster, equal())
    db.session.commit()
    queued = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    uncontacted, gone, told = cost.shares
    uncontacted.party.contact = None
    db.session.commit()
    costs.tell_contact(uncontacted)
    with db.session.no_autoflush:  # the share cannot be stored without a party
        gone.party = None
        costs.tell_contact(gone)
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == queued
    db.session.rollback()
    costs.tell_contact(told)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == queued + 1


def test_each_change_to_a_cost_shows_as_the_collaborations_last_change(cluster):
    """Setting a cost, a transfer counted on it and taking a cost away each mark the
    collaboration as changed (`Collaboration.touch`: the register's "updated")."""
    staff = make_user("staff@example.org", is_programme_staff=True)
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)

    def changes(change) -> bool:
        cluster.updated_at = long_ago
        db.session.commit()
        change()
        db.session.commit()
        return cluster.updated_at > long_ago

    cost = costs.save_cost(cluster, equal(900))
    assert changes(lambda: costs.save_cost(cluster, equal(1200), cost))
    assert changes(lambda: costs.record_payment(cost.shares[0], 400, staff))
    other = costs.save_cost(cluster, equal(300))
    assert changes(lambda: costs.remove_cost(other))


def test_a_cost_whose_party_vanished_while_paying_is_refused_by_name_not_a_crash(cluster):
    """A party's row deleted without `party_leaves` while its payment page is open. On
    SQLite (foreign keys not enforced) its share stays behind: taking the cost away is
    refused, naming the share's reference, instead of failing. PostgreSQL takes the share
    with its party: the cost goes, and the page's payment is left linked to nothing (paid
    all the same, it is refunded: test_collaboration_costs_settling)."""
    cost = costs.save_cost(cluster, equal(900))
    db.session.commit()
    share = cost.shares[2]
    db.session.add(
        Payment(
            provider=PaymentProvider.STRIPE,
            status=PaymentStatus.OPEN,
            amount_cents=300,
            cost_share=share,
        )
    )
    db.session.execute(sa.delete(CollaborationParty).where(CollaborationParty.id == share.party_id))
    db.session.commit()
    db.session.expire_all()
    if db.engine.dialect.name == "sqlite":
        assert share.party is None
        with pytest.raises(Refused) as refused:
            costs.remove_cost(cost)
        assert share.reference in str(refused.value)
        return
    assert [s.party.organisation.title for s in cost.shares] == [
        "Gemeente Zaanstad",
        "Gemeente Oostzaan",
    ]
    costs.remove_cost(cost)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(CostShare.id))) == 0
    assert db.session.scalar(sa.select(Payment.cost_share_id)) is None
