"""The demo's work with the city (`coop seed-demo`), so `make run` shows the public
register of collaborations with something in it:

- a MeentCoop koppel from a question of a municipal department ("inkoop
  energiebespaarservice raakt meerdere domeinen maar financiert er één", seed 001),
  answered by Zonnedak Oost, whose demo organiser is its contact;
- the Westergas Green Deal (seed 000): residual waste −30 % with the municipality's
  support, measured twice since;
- a cluster of four neighbouring municipalities sharing a climate adviser, € 10.000
  excl. btw split by inhabitants (seed 004), two of them paid.

The organisations are public bodies and places named in the seeds; their websites,
people and numbers here are made up. Dates are relative to today. Running it twice adds
nothing.
"""

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..i18n import local_zone
from ..models import (
    Collaboration,
    CollaborationKind,
    CollaborationParty,
    CollaborationStatus,
    Collective,
    Commitment,
    CostSplit,
    Domain,
    Organisation,
    OrganisationKind,
    ProgressUpdate,
    Question,
    QuestionResponse,
    QuestionStatus,
    User,
)
from . import collaboration_costs

KOPPEL = "koppel-energiebespaarservice"
GREEN_DEAL = "green-deal-westergasterrein"
CLUSTER = "klimaatcluster-zuid-kennemerland"

# slug, name, kind, parent's slug, website
ORGANISATIONS = [
    ("gemeente-amsterdam", "Gemeente Amsterdam", OrganisationKind.MUNICIPALITY, None, ""),
    (
        "amsterdam-klimaat-energie",
        "Klimaat en Energie",
        OrganisationKind.DEPARTMENT,
        "gemeente-amsterdam",
        "",
    ),
    (
        "amsterdam-afval-grondstoffen",
        "Afval en Grondstoffen",
        OrganisationKind.DEPARTMENT,
        "gemeente-amsterdam",
        "",
    ),
    (
        "westergasfabriek",
        "Westergasfabriek",
        OrganisationKind.BUSINESS,
        None,
        "https://westergas.example",
    ),
    ("gemeente-haarlem", "Gemeente Haarlem", OrganisationKind.MUNICIPALITY, None, ""),
    ("gemeente-heemstede", "Gemeente Heemstede", OrganisationKind.MUNICIPALITY, None, ""),
    ("gemeente-bloemendaal", "Gemeente Bloemendaal", OrganisationKind.MUNICIPALITY, None, ""),
    ("gemeente-zandvoort", "Gemeente Zandvoort", OrganisationKind.MUNICIPALITY, None, ""),
]
# The collective that answers the question: its organisation is linked, not copied.
COLLECTIVE = "zonnedak-oost"

# The cluster's municipalities, their inhabitants (rounded, made up: the cost's key) and
# whether they paid their share.
CLUSTER_SHARES = [
    ("gemeente-haarlem", 162_000, True),
    ("gemeente-heemstede", 27_500, True),
    ("gemeente-bloemendaal", 23_900, False),
    ("gemeente-zandvoort", 17_200, False),
]


def _organisations() -> dict[str, Organisation]:
    """The demo's organisations by slug, added where missing."""
    found = {o.slug: o for o in db.session.scalars(sa.select(Organisation))}
    for slug, name, kind, parent, website in ORGANISATIONS:
        if slug not in found:
            found[slug] = Organisation(
                slug=slug, name=name, kind=kind, parent=found.get(parent), website=website
            )
            db.session.add(found[slug])
    collective = db.session.scalar(sa.select(Collective).where(Collective.slug == COLLECTIVE))
    if collective is not None and COLLECTIVE not in found:
        linked = db.session.scalar(
            sa.select(Organisation).where(Organisation.collective_id == collective.id)
        )
        found[COLLECTIVE] = linked or Organisation(
            slug=COLLECTIVE, name="", kind=OrganisationKind.COLLECTIVE, collective=collective
        )
        db.session.add(found[COLLECTIVE])
    return found


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=local_zone())


def _progress(commitment: Commitment, day: date, value=None, note="", link="") -> None:
    commitment.updates.append(
        ProgressUpdate(value=value, note=note, link=link, on=day, created_at=_moment(day))
    )


def _collaboration(slug: str, today: date, **fields) -> Collaboration:
    return Collaboration(
        slug=slug,
        published_at=_moment(today - timedelta(days=120)),
        updated_at=_moment(today),
        **fields,
    )


def _koppel(today: date, organisations, domains, organiser: User | None) -> Collaboration:
    department = organisations["amsterdam-klimaat-energie"]
    zonnedak = organisations.get(COLLECTIVE)
    question = Question(
        organisation=department,
        title="Inkoop energiebespaarservice raakt meerdere domeinen maar financiert er één",
        body="Een energiebespaarservice helpt bewoners met wonen, zorg en energie, maar "
        "wordt alleen uit het energiebudget betaald. Wie denkt mee over een inkoop die "
        "recht doet aan alle domeinen?",
        status=QuestionStatus.PAIRED,
        domains=[domains["energie"], domains["wonen"], domains["zorg"]],
        created_at=_moment(today - timedelta(days=150)),
    )
    parties = [CollaborationParty(organisation=department, role="Vraageigenaar")]
    if zonnedak is not None:
        question.responses.append(
            QuestionResponse(
                organisation=zonnedak,
                note="Onze energiecoaches komen al achter de voordeur: wij doen graag mee.",
            )
        )
        parties.append(
            CollaborationParty(
                organisation=zonnedak, contact=organiser, role="Uitvoering: energiecoaches"
            )
        )
    koppel = _collaboration(
        KOPPEL,
        today,
        title="Koppel: een energiebespaarservice over domeinen heen",
        kind=CollaborationKind.KOPPEL,
        status=CollaborationStatus.RUNNING,
        goal="Een inkoop van de energiebespaarservice die wonen, zorg en energie samen "
        "betalen, getest met de energiecoaches van Zonnedak Oost in Oost.",
        starts_on=today - timedelta(days=120),
        ends_on=today + timedelta(days=245),
        question=question,
        domains=[domains["energie"], domains["wonen"]],
        parties=parties,
    )
    if zonnedak is not None:
        visits = Commitment(
            party=parties[1],
            title="Energiecoaches bezoeken 200 huishoudens",
            baseline=0,
            target=200,
            unit="huishoudens",
            due_on=today + timedelta(days=200),
        )
        _progress(visits, today - timedelta(days=60), 45, "De eerste straten in de Dapperbuurt.")
        _progress(visits, today - timedelta(days=10), 85, "Ook de Transvaalbuurt doet nu mee.")
        koppel.commitments.append(visits)
    proposal = Commitment(
        party=parties[0],
        title="Eén inkoopvoorstel, betaald uit drie domeinen",
        description="Wonen, zorg en energie leggen samen het budget neer.",
        due_on=today + timedelta(days=180),
        position=1,
    )
    _progress(proposal, today - timedelta(days=30), note="Eerste gesprek met Wonen en Zorg.")
    koppel.commitments.append(proposal)
    return koppel


def _green_deal(today: date, organisations, domains) -> Collaboration:
    westergas = CollaborationParty(
        organisation=organisations["westergasfabriek"],
        role="Terreinbeheerder: scheiden bij de bron",
    )
    city = CollaborationParty(
        organisation=organisations["amsterdam-afval-grondstoffen"],
        role="Ondersteuning: inzameling en advies",
    )
    deal = _collaboration(
        GREEN_DEAL,
        today,
        title="Green Deal Westergasterrein: minder afval",
        kind=CollaborationKind.GREEN_DEAL,
        status=CollaborationStatus.RUNNING,
        goal="De Westergasfabriek verkleint haar afvalstromen met steun van de gemeente: "
        "minder restafval, meer hergebruik, en bezoekers die meedoen.",
        starts_on=today - timedelta(days=300),
        ends_on=today + timedelta(days=430),
        domains=[domains["circulair"]],
        parties=[westergas, city],
    )
    waste = Commitment(
        party=westergas,
        title="Restafval −30%",
        description="Restafval van het terrein, als percentage van 2025.",
        baseline=100,
        target=70,
        unit="%",
        due_on=today + timedelta(days=430),
    )
    _progress(waste, today - timedelta(days=150), 94, "Nieuwe scheidingsbakken bij de horeca.")
    _progress(waste, today - timedelta(days=20), 86, "Statiegeldbekers op alle evenementen.")
    points = Commitment(
        party=westergas,
        title="Twaalf inzamelpunten op het terrein",
        baseline=0,
        target=12,
        unit="punten",
        due_on=today + timedelta(days=200),
        position=1,
    )
    _progress(points, today - timedelta(days=40), 5)
    support = Commitment(
        party=city,
        title="Gratis afvalscan voor de huurders",
        due_on=today + timedelta(days=100),
        position=2,
    )
    _progress(support, today - timedelta(days=90), note="Zes van de negen huurders gescand.")
    deal.commitments.extend([waste, points, support])
    return deal


def _cluster(today: date, organisations, domains) -> Collaboration:
    parties = {
        slug: CollaborationParty(
            organisation=organisations[slug], role="Deelnemende gemeente", cost_key=inhabitants
        )
        for slug, inhabitants, _ in CLUSTER_SHARES
    }
    cluster = _collaboration(
        CLUSTER,
        today,
        title="Klimaatcluster Zuid-Kennemerland",
        kind=CollaborationKind.CLUSTER,
        status=CollaborationStatus.RUNNING,
        goal="Vier buurgemeenten delen een klimaatadviseur en pakken de warmtetransitie samen aan.",
        starts_on=today - timedelta(days=60),
        ends_on=today + timedelta(days=305),
        domains=[domains["energie"]],
        parties=list(parties.values()),
    )
    plan = Commitment(
        party=parties["gemeente-haarlem"],
        title="Gezamenlijke warmteaanpak voor vier gemeenten",
        due_on=today + timedelta(days=150),
    )
    _progress(plan, today - timedelta(days=14), note="De adviseur is begonnen.")
    cluster.commitments.append(plan)
    return cluster


def seed_collaborations(today: date) -> int:
    """Add the demo's collaborations that are missing; return how many were added."""
    existing = set(
        db.session.scalars(
            sa.select(Collaboration.slug).where(
                Collaboration.slug.in_((KOPPEL, GREEN_DEAL, CLUSTER))
            )
        )
    )
    if len(existing) == 3:
        return 0
    domains = {d.slug: d for d in db.session.scalars(sa.select(Domain))}
    organisations = _organisations()
    organiser = db.session.scalar(
        sa.select(User).where(User.email == "organiser@meentcoop.example")
    )
    added = []
    if KOPPEL not in existing:
        added.append(_koppel(today, organisations, domains, organiser))
    if GREEN_DEAL not in existing:
        added.append(_green_deal(today, organisations, domains))
    if CLUSTER not in existing:
        added.append(_cluster(today, organisations, domains))
    db.session.add_all(added)
    db.session.flush()
    if CLUSTER not in existing:
        _share_the_cluster_cost(added[-1])
    return len(added)


def _share_the_cluster_cost(cluster: Collaboration) -> None:
    """€ 10.000 excl. btw for a shared climate adviser, split by inhabitants as staff
    would (`collaboration_costs.save_cost`: exact to the cent), two municipalities paid."""
    cost = collaboration_costs.save_cost(
        cluster,
        collaboration_costs.CostDetails(
            description="Gezamenlijke klimaatadviseur",
            total_cents=1_000_000,
            vat_included=False,
            split=CostSplit.BY_KEY,
            key_name="inwoners",
        ),
    )
    paid = {slug for slug, _, has_paid in CLUSTER_SHARES if has_paid}
    for share in cost.shares:
        if share.party.organisation.slug in paid:
            share.paid_cents = share.amount_cents
