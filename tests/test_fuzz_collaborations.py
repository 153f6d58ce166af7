"""Hostile input into the collaborations' back office (issue 18), as test_fuzz_forms does
for the other forms: a collaboration, a party, a commitment and a progress update, posted
by programme staff or the party's contact. Never a 5xx; a 422 changes nothing; what is
stored obeys the rules (sizes, dates in order, measurable targets, http(s) links)."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from cooperative.extensions import db
from cooperative.models import (
    Collaboration,
    CollaborationParty,
    Commitment,
    ProgressUpdate,
)
from cooperative.slugs import slug_is_valid
from tests.collaboration_factories import make_collaboration, make_commitment, make_organisation
from tests.conftest import csrf_token
from tests.factories import make_domain, make_user
from tests.test_fuzz_forms import (
    assert_answered,
    clean_text,
    form,
    fuzz,
    post,
    row_state,
    text_like,
)

DAYS = st.sampled_from(["", "2026-01-01", "2026-06-30", "2025-12-31", "2027-02-29", "0001-01-01"])
NUMBERS = st.sampled_from(["", "0", "70", "100", "12,5", "-30", "1e9", "NaN", "1.000,5"])


@pytest.fixture
def koppel(app, client):
    """A koppel from 2026-01-01 to 2026-12-31: a party whose contact is Wendy, and an
    organisation that is no party yet; Wendy logged in and programme staff too."""
    with app.app_context():
        make_domain()
        wendy = make_user("wendy@example.org", is_programme_staff=True)
        collaboration = make_collaboration(
            parties=[(make_organisation(), wendy)],
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
        )
        commitment = make_commitment(collaboration.parties[0])
        other = make_organisation("haarlem", "Gemeente Haarlem")
        ids = (collaboration.id, collaboration.parties[0].id, commitment.id, other.id)
    client.post(
        "/auth/login",
        data={
            "email": "wendy@example.org",
            "password": "correct horse battery",
            "csrf_token": csrf_token(client),
        },
    )
    return ids


def _within(day, collaboration) -> bool:
    return day is None or collaboration.starts_on <= day <= collaboration.ends_on


@fuzz(40)
@given(data=st.data())
def test_collaboration_form(app, client, koppel, data):
    collaboration_id = koppel[0]
    posted = data.draw(
        form(
            {
                "title": text_like("Minder restafval"),
                "slug": st.sampled_from(["", "afval", "Afval Oost", "afval-westergas"]),
                "kind": st.sampled_from(["koppel", "green_deal", "cluster", "other", "x"]),
                "status": st.sampled_from(["idea", "running", "finished", "stopped"]),
                "goal": text_like("Samen minder afval"),
                "starts_on": DAYS,
                "ends_on": DAYS,
                "domains": st.sampled_from(["", "1", "999"]),
            }
        )
    )
    with app.app_context():
        token = csrf_token(client, f"/manage/collaborations/{collaboration_id}/edit")
        before = row_state(Collaboration)
        response = post(client, f"/manage/collaborations/{collaboration_id}/edit", posted, token)
        assert_answered(response, (303, 422))
        db.session.expire_all()
        if response.status_code == 422:
            assert row_state(Collaboration) == before
        else:
            collaboration = db.session.get(Collaboration, collaboration_id)
            assert clean_text(collaboration.title, 200, required=True)
            assert clean_text(collaboration.goal, 5000)
            assert slug_is_valid(collaboration.slug, 80)
            if collaboration.starts_on and collaboration.ends_on:
                assert collaboration.starts_on <= collaboration.ends_on
            for commitment in collaboration.commitments:
                if commitment.due_on and collaboration.starts_on:
                    assert commitment.due_on >= collaboration.starts_on


@fuzz(40)
@given(data=st.data())
def test_party_and_commitment_forms(app, client, koppel, data):
    collaboration_id, party_id, _commitment_id, other_id = koppel
    party = data.draw(
        form(
            {
                "organisation": st.sampled_from([str(other_id), str(party_id), "", "x"]),
                "contact_email": st.sampled_from(["", "wendy@example.org", "nobody@example.org"]),
                "role": text_like("uitvoering"),
                "cost_key": st.sampled_from(["", "1", "0", "-5", "3000000000", "drie"]),
            }
        )
    )
    commitment = data.draw(
        form(
            {
                "party": st.sampled_from([str(party_id), "", "999"]),
                "title": text_like("Restafval −30%"),
                "description": text_like(""),
                "baseline": NUMBERS,
                "target": NUMBERS,
                "unit": text_like("%"),
                "due_on": DAYS,
            }
        )
    )
    base = f"/manage/collaborations/{collaboration_id}"
    with app.app_context():
        token = csrf_token(client, base)
        for url, posted, model in (
            (f"{base}/parties", party, CollaborationParty),
            (f"{base}/commitments", commitment, Commitment),
        ):
            before = row_state(model)
            response = post(client, url, posted, token)
            assert_answered(response, (303, 422))
            db.session.expire_all()
            if response.status_code == 422:
                assert row_state(model) == before
        collaboration = db.session.get(Collaboration, collaboration_id)
        for added in collaboration.parties:
            assert clean_text(added.role, 200)
            assert added.cost_key is None or 1 <= added.cost_key < 2**31
        for promised in collaboration.commitments:
            assert clean_text(promised.title, 200, required=True)
            assert (promised.baseline is None) == (promised.target is None)
            assert promised.baseline is None or promised.baseline != promised.target
            assert _within(promised.due_on, collaboration)
        db.session.execute(sa.delete(Commitment).where(Commitment.title != "Restafval −30%"))
        db.session.execute(sa.delete(CollaborationParty).where(CollaborationParty.id != party_id))
        db.session.commit()


@fuzz(40)
@given(data=st.data())
def test_progress_form(app, client, koppel, data):
    collaboration_id, _party_id, commitment_id, _other = koppel
    prefix = f"progress-{commitment_id}"
    today = date.today()
    posted = data.draw(
        form(
            {
                f"{prefix}-value": NUMBERS,
                f"{prefix}-note": text_like("Eerste meting"),
                f"{prefix}-on": st.sampled_from(
                    [today.isoformat(), (today + timedelta(days=1)).isoformat(), "2026-01-01"]
                ),
                f"{prefix}-link": st.sampled_from(
                    ["", "https://example.org/a", "example.org", "javascript:alert(1)", "ftp://x"]
                ),
            }
        )
    )
    url = f"/manage/collaborations/{collaboration_id}/commitments/{commitment_id}/progress"
    with app.app_context():
        token = csrf_token(client, f"/manage/collaborations/{collaboration_id}")
        before = row_state(ProgressUpdate)
        response = post(client, url, posted, token)
        assert_answered(response, (303, 422))
        db.session.expire_all()
        if response.status_code == 422:
            assert row_state(ProgressUpdate) == before
        for update in db.session.scalars(sa.select(ProgressUpdate)):
            assert date(2026, 1, 1) <= update.on <= today
            assert update.value is not None or update.note.strip()
            assert clean_text(update.note, 5000)
            assert update.link == "" or update.link.startswith(("https://", "http://"))
            assert len(update.link) <= 300
        db.session.execute(sa.delete(ProgressUpdate))
        db.session.commit()
