"""The votes of a general meeting over HTTP (issue 16): the chair's page (add, open, the
live count, close, remove), the member's ballot (own, by proxy, online), the result and
how members voted, the meeting page's polled section, bad input (422, never a 500), who
may do what, and the queries of the pages that list."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Majority,
    Meeting,
    Membership,
    OpenBallot,
    Proxy,
    ProxyStatus,
    SecretVoter,
    Vote,
    VoteKind,
    VoteQuestion,
    VoteStatus,
    utcnow,
)
from cooperative.services import meeting_ballots, meeting_votes
from tests.conftest import post_form
from tests.factories import make_user
from tests.vote_fixtures import (
    arrive,
    chair,
    give_proxy,
    members,
    open_vote,
    option,
    voting_meeting,
)

HTMX = {"HX-Request": "true"}


def _world(app, online_voting=False, kind=VoteKind.OPEN, opened=True, **vote):
    """A meeting under way with Ada and Bea present, Cor and Dirk away (their proxies
    with Bea), Eva away without a proxy, a guest, and a vote on the first item."""
    with app.app_context():
        meeting = voting_meeting(online_voting=online_voting)
        chair()
        ada, bea, cor, dirk, eva = members("Ada", "Bea", "Cor", "Dirk", "Eva")
        make_user("guest@example.org")
        arrive(meeting, ada, bea)
        give_proxy(meeting, cor, bea)
        give_proxy(meeting, dirk, bea)
        if opened:
            made = open_vote(meeting, kind=kind, **vote)
        else:
            made = meeting_votes.add_vote(meeting.items[0], kind=kind, **vote)
            db.session.commit()
        return SimpleNamespace(
            meeting_id=meeting.id,
            slug=meeting.slug,
            item_ids=[item.id for item in meeting.items],
            vote_id=made.id,
            options={
                o.meaning.value if o.meaning != "candidate" else o.label: o.id for o in made.options
            },
            ada=ada.id,
            bea=bea.id,
            cor=cor.id,
            dirk=dirk.id,
            eva=eva.id,
            vote_url=f"/meetings/{meeting.slug}/votes/{made.id}",
            manage_url=f"/manage/meetings/{meeting.id}/votes",
        )


def _ballots(app) -> list[tuple[int, int, int]]:
    """(member, option, cast by) of every open ballot."""
    with app.app_context():
        return sorted(
            db.session.execute(
                sa.select(OpenBallot.membership_id, OpenBallot.option_id, OpenBallot.cast_by_id)
            ).all()
        )


def _status(app, vote_id) -> VoteStatus:
    with app.app_context():
        return db.session.get(Vote, vote_id).status


# --- the chair ---------------------------------------------------------------------------------


def test_only_the_board_runs_the_votes(client, app, auth):
    w = _world(app)
    calls = [
        ("get", w.manage_url),
        ("get", f"{w.manage_url}/{w.vote_id}/count"),
        ("post", f"/manage/meetings/{w.meeting_id}/items/{w.item_ids[0]}/votes"),
        ("post", f"{w.manage_url}/{w.vote_id}/open"),
        ("post", f"{w.manage_url}/{w.vote_id}/close"),
        ("post", f"{w.manage_url}/{w.vote_id}/remove"),
    ]

    def answers():
        return [
            (client.get(url) if method == "get" else post_form(client, url)).status_code
            for method, url in calls
        ]

    assert set(answers()) == {302}
    auth.login("ada@example.org")
    assert set(answers()) == {403}
    assert _status(app, w.vote_id) == VoteStatus.OPEN


def test_the_chair_adds_a_vote_with_bad_input_kept_and_refused(client, app, auth):
    w = _world(app, opened=False)
    auth.login("chair@example.org")
    page = client.get(f"{w.manage_url}?lang=en")
    assert page.status_code == 200
    assert "Jaarrekening 2026" in page.text and "Statutenwijziging" in page.text
    # The statutes item proposes two thirds, the other a simple majority.
    assert f'<input checked id="vote-{w.item_ids[1]}-majority-1"' in page.text
    assert f'<input checked id="vote-{w.item_ids[0]}-majority-0"' in page.text
    add = f"/manage/meetings/{w.meeting_id}/items/{w.item_ids[0]}/votes?lang=en"
    p = f"vote-{w.item_ids[0]}-"
    no_candidates = post_form(
        client,
        add,
        {
            f"{p}title": "Kascommissie",
            f"{p}kind": "secret",
            f"{p}question": "election",
            f"{p}majority": "simple",
        },
    )
    assert no_candidates.status_code == 422
    assert "Please write the names of the candidates" in no_candidates.text
    assert 'value="Kascommissie"' in no_candidates.text
    twice = post_form(
        client,
        add,
        {
            f"{p}kind": "open",
            f"{p}question": "election",
            f"{p}majority": "simple",
            f"{p}candidates": "Ada\nada",
        },
    )
    assert twice.status_code == 422 and "only once" in twice.text and "Ada\nada" in twice.text
    for bad in ({f"{p}kind": "public"}, {f"{p}question": "poll"}, {f"{p}majority": "all"}):
        fields = {f"{p}kind": "open", f"{p}question": "proposal", f"{p}majority": "simple", **bad}
        refused = post_form(client, add, fields)
        assert refused.status_code == 422 and "error-summary" in refused.text
    nothing = post_form(client, add, {})
    assert nothing.status_code == 422 and "Please choose an open or a secret vote." in nothing.text
    other_meeting = post_form(client, f"/manage/meetings/999/items/{w.item_ids[0]}/votes", {})
    assert other_meeting.status_code == 404
    made = post_form(
        client,
        add,
        {
            f"{p}kind": "secret",
            f"{p}question": "election",
            f"{p}majority": "simple",
            f"{p}candidates": "Ada\nBea",
        },
    )
    assert made.status_code == 303
    with app.app_context():
        vote = db.session.scalars(sa.select(Vote).order_by(Vote.id.desc())).first()
        assert (vote.kind, vote.question, vote.title) == (
            VoteKind.SECRET,
            VoteQuestion.ELECTION,
            "Jaarrekening 2026",
        )
        assert [o.label for o in vote.options] == ["Ada", "Bea", ""]
        assert made.headers["Location"].endswith(f"#vote-{vote.id}")


def test_the_chair_opens_watches_and_closes_a_vote(client, app, auth):
    w = _world(app, opened=False)
    auth.login("chair@example.org")
    assert post_form(client, f"{w.manage_url}/{w.vote_id}/open").status_code == 303
    assert _status(app, w.vote_id) == VoteStatus.OPEN
    again = post_form(client, f"{w.manage_url}/{w.vote_id}/open?lang=en", follow_redirects=True)
    assert "This vote is open already." in again.text
    auth.logout()
    auth.login("ada@example.org")
    post_form(client, w.vote_url, {"choice": w.options["for"]})
    auth.logout()
    auth.login("chair@example.org")
    page = client.get(f"{w.manage_url}?lang=en")
    assert "1 member has voted so far." in page.text
    assert "Adopted" not in page.text and "Votes per answer" not in page.text  # no tallies yet
    count = client.get(f"{w.manage_url}/{w.vote_id}/count?lang=en", headers=HTMX)
    assert count.status_code == 200 and "1 member has voted so far." in count.text
    assert 'hx-trigger="every 5s"' in count.text and "HX-Request" in count.headers["Vary"]
    assert client.get(f"{w.manage_url}/{w.vote_id}/count").status_code == 303  # no htmx
    assert post_form(client, f"{w.manage_url}/{w.vote_id}/remove").status_code == 303
    assert _status(app, w.vote_id) == VoteStatus.OPEN  # an opened vote is not removed
    closed = post_form(client, f"{w.manage_url}/{w.vote_id}/close?lang=en", follow_redirects=True)
    assert "The vote is closed." in closed.text and "Adopted" in closed.text
    assert _status(app, w.vote_id) == VoteStatus.CLOSED
    reopened = post_form(client, f"{w.manage_url}/{w.vote_id}/open?lang=en", follow_redirects=True)
    assert "a closed vote stays closed" in reopened.text
    assert _status(app, w.vote_id) == VoteStatus.CLOSED
    with app.app_context():
        result = db.session.get(Vote, w.vote_id).result
    assert result["voters"] == 1 and result["passed"] is True


def test_a_draft_vote_is_removed_and_a_vote_of_a_meeting_far_ahead_does_not_open(client, app, auth):
    w = _world(app, opened=False)
    with app.app_context():
        later = voting_meeting(starts_in=timedelta(days=3))
        draft = meeting_votes.add_vote(later.items[0], kind=VoteKind.OPEN)
        db.session.commit()
        later_url = f"/manage/meetings/{later.id}/votes/{draft.id}"
    auth.login("chair@example.org")
    refused = post_form(client, f"{later_url}/open?lang=en", follow_redirects=True)
    assert "Too early" in refused.text
    assert post_form(client, f"{w.manage_url}/{w.vote_id}/remove").status_code == 303
    with app.app_context():
        assert db.session.get(Vote, w.vote_id) is None
    assert post_form(client, f"{w.manage_url}/{w.vote_id}/open").status_code == 404


# --- the member's ballot -----------------------------------------------------------------------


def test_a_present_member_votes_once_and_is_told_so(client, app, auth):
    w = _world(app)
    auth.login("ada@example.org")
    page = client.get(f"{w.vote_url}?lang=en")
    assert page.status_code == 200
    assert 'type="radio"' in page.text and "For</label>" in page.text
    assert "Abstain</label>" in page.text and "represent" not in page.text
    none = post_form(client, f"{w.vote_url}?lang=en", {})
    assert none.status_code == 422 and "Please choose an answer." in none.text
    dutch = post_form(client, f"{w.vote_url}?lang=nl", {})
    assert dutch.status_code == 422 and "Kies een antwoord." in dutch.text
    assert "Mijn stem uitbrengen" in dutch.text and "Onthouding</label>" in dutch.text
    unknown = post_form(client, f"{w.vote_url}?lang=en", {"choice": "99999"})
    assert unknown.status_code == 422 and "Please choose one of the answers given." in unknown.text
    junk = post_form(client, f"{w.vote_url}?lang=en", {"choice": "for\x00"})
    assert junk.status_code == 422
    done = post_form(client, w.vote_url, {"choice": w.options["against"]})
    assert done.status_code == 303 and done.headers["Location"].endswith(w.vote_url)
    recorded = client.get(f"{w.vote_url}?lang=en")
    assert "Your vote is recorded." in recorded.text and 'type="radio"' not in recorded.text
    twice = post_form(client, f"{w.vote_url}?lang=en", {"choice": w.options["for"]})
    assert twice.status_code == 422 and "a member votes once" in twice.text
    assert _ballots(app) == [(w.ada, w.options["against"], w.ada)]


def test_a_member_who_is_not_there_votes_only_online(client, app, auth):
    w = _world(app)
    auth.login("eva@example.org")
    page = client.get(f"{w.vote_url}?lang=en")
    assert "once you are checked in" in page.text and 'type="radio"' not in page.text
    refused = post_form(client, f"{w.vote_url}?lang=en", {"choice": w.options["for"]})
    assert refused.status_code == 422 and "once you are checked in" in refused.text
    assert _ballots(app) == []


def test_online_the_ballot_is_marked_and_the_members_proxy_cancelled(client, app, auth):
    w = _world(app, online_voting=True)
    auth.login("cor@example.org")
    page = client.get(f"{w.vote_url}?lang=en")
    assert "you vote online" in page.text
    assert post_form(client, w.vote_url, {"choice": w.options["for"]}).status_code == 303
    with app.app_context():
        ballot = db.session.scalar(sa.select(OpenBallot))
        assert ballot.online and ballot.membership_id == w.cor
        proxy = db.session.scalar(sa.select(Proxy).where(Proxy.grantor_id == w.cor))
        assert proxy.status == ProxyStatus.CANCELLED


def test_a_holder_votes_for_each_member_they_represent(client, app, auth):
    w = _world(app)
    auth.login("bea@example.org")
    page = client.get(f"{w.vote_url}?lang=en")
    assert "You represent 2 members" in page.text
    assert f'name="for_{w.cor}"' in page.text and f'name="for_{w.dirk}"' in page.text
    assert (
        "For Cor" in page.text and "The same as my own vote, for everyone I represent" in page.text
    )
    missing = post_form(
        client,
        f"{w.vote_url}?lang=en",
        {"choice": w.options["for"], "proxy_mode": "each", f"for_{w.cor}": w.options["against"]},
    )
    assert missing.status_code == 422 and "Please choose an answer." in missing.text
    assert f'<input checked id="for_{w.cor}-1"' in missing.text  # what was chosen is kept
    no_mode = post_form(client, f"{w.vote_url}?lang=en", {"choice": w.options["for"]})
    assert no_mode.status_code == 422 and "Please choose how you vote for them." in no_mode.text
    assert f'id="for_{w.dirk}-error"' in missing.text
    assert _ballots(app) == []
    each = post_form(
        client,
        w.vote_url,
        {
            "choice": w.options["for"],
            "proxy_mode": "each",
            f"for_{w.cor}": w.options["against"],
            f"for_{w.dirk}": w.options["abstain"],
        },
    )
    assert each.status_code == 303
    assert _ballots(app) == sorted(
        [
            (w.bea, w.options["for"], w.bea),
            (w.cor, w.options["against"], w.bea),
            (w.dirk, w.options["abstain"], w.bea),
        ]
    )
    again = post_form(
        client,
        f"{w.vote_url}?lang=en",
        {"choice": w.options["for"], f"for_{w.cor}": w.options["for"]},
    )
    assert again.status_code == 422 and "Your vote is recorded already" in again.text
    auth.logout()
    auth.login("cor@example.org")
    assert "the holder of your proxy voted for you" in client.get(f"{w.vote_url}?lang=en").text


def test_a_ballot_form_loaded_before_a_represented_member_came_casts_nothing(client, app, auth):
    w = _world(app)
    with app.app_context():
        arrive(db.session.get(Vote, w.vote_id).item.meeting, db.session.get(Membership, w.cor))
    auth.login("bea@example.org")
    stale = post_form(
        client,
        f"{w.vote_url}?lang=en",
        {
            "choice": w.options["for"],
            "proxy_mode": "each",
            f"for_{w.cor}": w.options["for"],
            f"for_{w.dirk}": w.options["for"],
        },
    )
    assert stale.status_code == 422 and "in the meantime" in stale.text
    assert f'name="for_{w.cor}"' not in stale.text and f'name="for_{w.dirk}"' in stale.text
    assert _ballots(app) == []


def test_the_same_for_everyone_a_holder_represents(client, app, auth):
    w = _world(app, kind=VoteKind.SECRET)
    auth.login("bea@example.org")
    done = post_form(client, w.vote_url, {"choice": w.options["against"], "proxy_mode": "same"})
    assert done.status_code == 303
    with app.app_context():
        assert set(db.session.scalars(sa.select(SecretVoter.membership_id))) == {
            w.bea,
            w.cor,
            w.dirk,
        }
        result = meeting_votes.close_vote(db.session.get(Vote, w.vote_id), chair())
        db.session.commit()
    against = next(o for o in result["options"] if o["meaning"] == "against")
    assert (against["count"], result["passed"]) == (3, False)


def test_nobody_votes_for_a_member_whose_proxy_they_do_not_hold(client, app, auth):
    w = _world(app)
    auth.login("ada@example.org")
    forged = post_form(
        client, w.vote_url, {"choice": w.options["for"], f"for_{w.cor}": w.options["for"]}
    )
    assert forged.status_code == 403
    other = post_form(
        client, w.vote_url, {"choice": w.options["for"], f"for_{w.eva}": w.options["for"]}
    )
    assert other.status_code == 403
    assert _ballots(app) == []


def test_who_may_see_and_cast_a_vote(client, app, auth):
    w = _world(app)
    with app.app_context():
        draft = meeting_votes.add_vote(
            db.session.get(Vote, w.vote_id).item, kind=VoteKind.OPEN, majority=Majority.SIMPLE
        )
        db.session.commit()
        draft_url = f"/meetings/{w.slug}/votes/{draft.id}"
    assert client.get(w.vote_url).status_code == 302
    auth.login("guest@example.org")
    assert client.get(w.vote_url).status_code == 403
    assert post_form(client, w.vote_url, {"choice": w.options["for"]}).status_code == 403
    assert client.get(f"/meetings/{w.slug}/votes", headers=HTMX).status_code == 403
    auth.logout()
    auth.login("chair@example.org")  # the board reads the vote, but is no member
    board = client.get(f"{w.vote_url}?lang=en")
    assert board.status_code == 200 and "Only active members vote." in board.text
    assert post_form(client, w.vote_url, {"choice": w.options["for"]}).status_code == 403
    auth.logout()
    auth.login("ada@example.org")
    assert client.get(draft_url).status_code == 404
    assert client.get(f"/meetings/other/votes/{w.vote_id}").status_code == 404
    assert _ballots(app) == []


# --- after the close -------------------------------------------------------------------------


def _vote_and_close(app, client, auth, w, answers: dict[str, str]) -> None:
    for name, answer in answers.items():
        auth.login(f"{name}@example.org")
        data = {"choice": w.options[answer], "proxy_mode": "same"}
        assert post_form(client, w.vote_url, data).status_code == 303
        auth.logout()
    with app.app_context():
        meeting_votes.close_vote(db.session.get(Vote, w.vote_id), chair())
        db.session.commit()


def test_a_closed_open_vote_shows_its_result_and_how_each_member_voted(client, app, auth):
    w = _world(app)
    _vote_and_close(app, client, auth, w, {"ada": "for", "bea": "against"})
    auth.login("eva@example.org")
    page = client.get(f"{w.vote_url}?lang=en")
    assert page.status_code == 200 and "Not adopted" in page.text
    voters = page.text.split('class="voter-list"')[1].split("</ul>")[0]
    assert re.search(r"Ada \(\d+\)</span>: <strong>For</strong>", voters)
    assert re.search(r"Bea \(\d+\)</span>: <strong>Against</strong>", voters)
    late = post_form(client, f"{w.vote_url}?lang=en", {"choice": w.options["for"]})
    assert late.status_code == 422 and "This vote is not open." in late.text


def test_a_closed_secret_vote_shows_who_voted_never_how(client, app, auth):
    w = _world(app, kind=VoteKind.SECRET)
    _vote_and_close(app, client, auth, w, {"ada": "for", "bea": "against"})
    auth.login("ada@example.org")
    page = client.get(f"{w.vote_url}?lang=en")
    assert "Who voted" in page.text and "Not adopted" in page.text
    voters = page.text.split('class="voter-list"')[1].split("</ul>")[0]
    assert "Ada" in voters and "Bea" in voters
    assert "For" not in voters and "Against" not in voters and "<strong>" not in voters


def test_an_election_shows_who_is_elected(client, app, auth):
    w = _world(app, question=VoteQuestion.ELECTION, candidates=["Vera", "Wim"])
    _vote_and_close(app, client, auth, w, {"ada": "Wim", "bea": "Wim"})
    auth.login("ada@example.org")
    assert "Elected: Wim" in client.get(f"{w.vote_url}?lang=en").text


@pytest.mark.parametrize("kind", [VoteKind.OPEN, VoteKind.SECRET])
def test_the_result_page_queries_do_not_grow_with_the_voters(
    client, app, auth, count_queries, kind
):
    w = _world(app, kind=kind)
    _vote_and_close(app, client, auth, w, {"ada": "for"})
    auth.login("eva@example.org")
    client.get(w.vote_url)
    with count_queries as one:
        assert client.get(w.vote_url).status_code == 200
    with app.app_context():
        vote = db.session.get(Vote, w.vote_id)
        vote.status = VoteStatus.OPEN
        extra = members(*[f"Lid{i}" for i in range(6)])
        arrive(vote.item.meeting, *extra)
        for member in extra:
            meeting_ballots.cast(vote, member, {member.id: option(vote, "against")})
        vote.status = VoteStatus.CLOSED
        db.session.commit()
    with count_queries as seven:
        page = client.get(w.vote_url)
    assert page.text.count("<li>") >= 7
    assert seven.count == one.count


def test_the_chair_page_queries_do_not_grow_with_the_votes(client, app, auth, count_queries):
    w = _world(app)
    auth.login("chair@example.org")
    client.get(w.manage_url)
    with count_queries as one:
        client.get(w.manage_url)
    with app.app_context():
        vote = db.session.get(Vote, w.vote_id)
        for kind in (VoteKind.OPEN, VoteKind.SECRET, VoteKind.SECRET):
            meeting_votes.open_vote(meeting_votes.add_vote(vote.item, kind=kind), chair())
        meeting_votes.add_vote(vote.item, kind=VoteKind.OPEN)
        db.session.commit()
    with count_queries as five:
        page = client.get(w.manage_url)
    assert page.text.count('class="vote-card"') == 5
    assert five.count == one.count


# --- the meeting's page ------------------------------------------------------------------------


def test_the_meeting_page_shows_an_open_vote_and_polls_for_changes(client, app, auth):
    w = _world(app, opened=False)
    auth.login("ada@example.org")
    page = client.get(f"/meetings/{w.slug}?lang=en")
    assert page.status_code == 200
    assert "No vote is open now." in page.text and 'hx-trigger="every 5s"' in page.text
    seen = (
        re.search(r'hx-get="([^"]*/votes\?seen=[^"]*)"', page.text).group(1).replace("&amp;", "&")
    )
    unchanged = client.get(seen, headers=HTMX)
    assert unchanged.status_code == 204
    with app.app_context():
        meeting_votes.open_vote(db.session.get(Vote, w.vote_id), chair())
        db.session.commit()
    changed = client.get(f"{seen}&lang=en", headers=HTMX)
    assert changed.status_code == 200 and "Vote now: Jaarrekening 2026" in changed.text
    assert "<section" not in changed.text and 'id="votes-body"' in changed.text
    assert client.get(seen).status_code == 303  # without htmx: the page
    post_form(client, w.vote_url, {"choice": w.options["for"]})
    page = client.get(f"/meetings/{w.slug}?lang=en")
    assert "Jaarrekening 2026: your vote is recorded" in page.text


def test_after_the_meeting_its_page_shows_the_results_and_stops_polling(client, app, auth):
    w = _world(app)
    auth.login("ada@example.org")
    page = client.get(f"/meetings/{w.slug}?lang=en").text
    seen = re.search(r'hx-get="([^"]*/votes\?seen=[^"]*)"', page).group(1).replace("&amp;", "&")
    with app.app_context():
        meeting_votes.close_vote(db.session.get(Vote, w.vote_id), chair())
        meeting = db.session.get(Meeting, w.meeting_id)
        meeting.ends_at = utcnow() - timedelta(minutes=1)
        db.session.commit()

    # A phone left on the page gets the results once more, without the polling.
    last = client.get(f"{seen}&lang=en", headers=HTMX)
    assert last.status_code == 200 and "Results" in last.text and "hx-get" not in last.text
    after = client.get(f"/meetings/{w.slug}?lang=en").text
    assert 'id="votes"' in after and "Jaarrekening 2026</a>: not adopted" in after  # no votes
    assert "every 5s" not in after and "No vote is open now." not in after
    assert 'id="taking-part"' in after  # Ada was there: her part stays in view
