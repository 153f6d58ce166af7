"""Test data for the work with the city: organisations, questions, collaborations with
parties, commitments, progress and costs. Call inside an app context; they commit."""

from datetime import date

from cooperative.extensions import db
from cooperative.models import (
    Collaboration,
    CollaborationKind,
    CollaborationParty,
    CollaborationStatus,
    Commitment,
    Organisation,
    OrganisationKind,
    OrganisationPerson,
    ProgressUpdate,
    Question,
    utcnow,
)


def make_organisation(
    slug: str = "gemeente-amsterdam",
    name: str = "Gemeente Amsterdam",
    kind: OrganisationKind = OrganisationKind.MUNICIPALITY,
    people=(),
    **kw,
) -> Organisation:
    """An organisation; `people` are the accounts that act for it."""
    organisation = Organisation(slug=slug, name=name, kind=kind, **kw)
    organisation.people = [OrganisationPerson(user=person) for person in people]
    db.session.add(organisation)
    db.session.commit()
    return organisation


def organisation_of(collective, **kw) -> Organisation:
    """The organisation that is `collective` (its name is the collective's)."""
    return make_organisation(
        slug=kw.pop("slug", collective.slug),
        name="",
        kind=OrganisationKind.COLLECTIVE,
        collective=collective,
        **kw,
    )


def make_question(organisation, title: str = "Inkoop energiebespaarservice", **kw) -> Question:
    question = Question(organisation=organisation, title=title, **kw)
    db.session.add(question)
    db.session.commit()
    return question


def make_collaboration(
    slug: str = "afval-westergas",
    title: str = "Minder restafval op het Westergasterrein",
    kind: CollaborationKind = CollaborationKind.GREEN_DEAL,
    parties=(),
    published: bool = True,
    **kw,
) -> Collaboration:
    """A collaboration of `parties`: organisations, or (organisation, contact user) pairs."""
    collaboration = Collaboration(
        slug=slug,
        title=title,
        kind=kind,
        status=kw.pop("status", CollaborationStatus.RUNNING),
        goal=kw.pop("goal", "Samen de afvalstromen verkleinen."),
        starts_on=kw.pop("starts_on", date(2026, 1, 1)),
        published_at=utcnow() if published else None,
        **kw,
    )
    for party in parties:
        organisation, contact = party if isinstance(party, tuple) else (party, None)
        collaboration.parties.append(CollaborationParty(organisation=organisation, contact=contact))
    db.session.add(collaboration)
    db.session.commit()
    return collaboration


def make_commitment(
    party: CollaborationParty,
    title: str = "Restafval −30%",
    baseline: float | None = 100,
    target: float | None = 70,
    unit: str = "%",
    **kw,
) -> Commitment:
    commitment = Commitment(
        collaboration=party.collaboration,
        party=party,
        title=title,
        baseline=baseline,
        target=target,
        unit=unit,
        **kw,
    )
    db.session.add(commitment)
    db.session.commit()
    return commitment


def make_progress(commitment: Commitment, value: float | None, on: date, **kw) -> ProgressUpdate:
    update = ProgressUpdate(commitment=commitment, value=value, on=on, **kw)
    db.session.add(update)
    db.session.commit()
    return update
