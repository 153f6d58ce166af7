"""The minutes of a general meeting, on the services (issue 16): the draft from the
meeting's rows, the rules of saving, approving and publishing at their edges, and the
Markdown rendered safely."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Meeting
from cooperative.refusals import Refused
from cooperative.services import meeting_minutes as minutes
from cooperative.services.meeting_minutes_draft import draft
from tests.factories import AMSTERDAM, make_admin, make_user
from tests.meeting_fixtures import make_meeting
from tests.minutes_fixtures import a_held_meeting_with_its_rows, held_meeting


def _draft_in(app, meeting_id: int, lang: str = "en") -> str:
    """The draft as a secretary reading in `lang` gets it (a request of its own: the
    language is chosen once per request)."""
    with app.test_request_context(f"/?lang={lang}"):
        return draft(db.session.get(Meeting, meeting_id), lang)


def test_the_draft_holds_who_was_there_the_proxies_and_each_closed_vote(app):
    with app.app_context():
        held = a_held_meeting_with_its_rows()
    text = _draft_in(app, held.id)
    assert text.startswith("# Minutes: Algemene ledenvergadering")
    assert "Place: Buurthuis De Meent, Javastraat 1." in text
    # Ada in the room, Bram online, Cor by Ada's proxy; Eva registered but never came and
    # withdrew her proxy; five active members.
    assert "- Present in the room: 1\n" in text
    assert "- Present online: 1\n" in text
    assert "- Represented by proxy: 1\n" in text
    assert "- Taking part: 3 of the 5 members\n" in text
    assert "- Quorum (50%): met\n" in text
    # Names as in the register, their Markdown escaped (Ada's stars stay stars).
    assert "### In the room\n\n- Ada \\*Lovelace\\*\n" in text
    assert "### Online\n\n- Bram Bakker\n" in text
    assert "- Cor Claassen → Ada \\*Lovelace\\*\n" in text
    assert "Eva Evers" not in text and "Dirk Dekker" not in text
    # The votes under their items, in agenda order; the open one is not there.
    accounts = text.index("### 1. Jaarrekening 2026")
    board = text.index("### 2. Bestuursverkiezing")
    assert accounts < text.index("**Vaststelling jaarrekening 2026** (open vote)") < board
    assert "- For: 2 members\n- Against: 1 member\n- Abstain: 0 members\n" in text
    assert "- Turnout: 3 of the 5 members who could vote (60%)\n" in text
    assert "- Quorum (50%): met, 3 members present or represented\n" in text
    assert "- **Adopted**" in text
    assert board < text.index("**Verkiezing penningmeester** (secret vote)")
    assert "- Fien Faber: 2 members\n- Gijs Goud: 1 member\n" in text
    assert "- **Elected: Fien Faber**" in text
    assert "Nog open stemming" not in text
    assert "votes)" not in text  # one member, one vote: no weights


def test_with_a_vote_per_share_the_draft_gives_the_weights(app):
    with app.app_context():
        held = a_held_meeting_with_its_rows(weighted=True)
        db.session.commit()
    text = _draft_in(app, held.id)
    assert "- For: 2 members (5 votes)\n- Against: 1 member (1 vote)\n" in text
    assert "(60%); 6 of 9 votes\n" in text


def test_a_meeting_without_rows_gets_a_draft_that_says_so(app):
    with app.app_context():
        meeting_id = held_meeting(quorum_percent=None).id
    text = _draft_in(app, meeting_id)
    dutch = _draft_in(app, meeting_id, "nl")
    assert "- Taking part: 0 of the 0 members" in text
    assert "Quorum" not in text
    assert "No proxies were given." in text
    assert "### 1. Jaarrekening 2026\n\n### 2. Bestuursverkiezing" in text
    assert dutch.startswith("# Notulen: Algemene ledenvergadering\n\nGehouden op ")
    assert "## Aanwezigheid" in dutch and "Er zijn geen volmachten gegeven." in dutch


def test_minutes_are_written_once_the_meeting_started_and_saving_records_who(app):
    with app.test_request_context("/?lang=en"):
        secretary = make_user("secretary@example.org", board_role="secretary")
        ahead = make_meeting(10)
        with pytest.raises(Refused, match="once the meeting has started"):
            minutes.save(ahead, "Te vroeg", secretary)
        # The very moment it starts is the edge.
        assert minutes.save(ahead, "Net begonnen", secretary, now=ahead.starts_at) is False
        assert ahead.minutes_text == "Net begonnen"
        assert ahead.minutes_updated_by_id == secretary.id
        assert ahead.minutes_updated_at == ahead.starts_at
        with pytest.raises(Refused):
            minutes.save(
                ahead, "Een seconde te vroeg", secretary, now=ahead.starts_at - timedelta(seconds=1)
            )
        # The same text again changes nothing, not even who saved it.
        admin = make_admin()
        minutes.save(ahead, "  Net begonnen\n", admin, now=ahead.starts_at)
        assert ahead.minutes_updated_by_id == secretary.id


def test_approval_is_dated_from_the_meeting_day_up_to_today(app):
    with app.test_request_context("/?lang=en"):
        secretary = make_user("secretary@example.org", board_role="secretary")
        meeting = held_meeting(-3)
        meeting_day = meeting.starts_at.astimezone(AMSTERDAM).date()
        with pytest.raises(Refused, match="Write and save the minutes"):
            minutes.approve(meeting, meeting_day)
        minutes.save(meeting, "## Opening\n\nDe voorzitter opent.", secretary)
        with pytest.raises(Refused, match="before the day of the meeting") as refused:
            minutes.approve(meeting, meeting_day - timedelta(days=1))
        assert refused.value.field == "approved_on"
        today = meeting_day + timedelta(days=3)
        with pytest.raises(Refused, match="in the future"):
            minutes.approve(meeting, today + timedelta(days=1))
        minutes.approve(meeting, meeting_day)
        assert meeting.minutes_approved_at.astimezone(AMSTERDAM).date() == meeting_day
        minutes.approve(meeting, today)
        assert meeting.minutes_approved_at.astimezone(AMSTERDAM).date() == today
        db.session.commit()


def test_published_minutes_are_locked_until_the_publication_is_withdrawn(app):
    with app.test_request_context("/?lang=en"):
        secretary = make_user("secretary@example.org", board_role="secretary")
        meeting = held_meeting()
        minutes.save(meeting, "Besluiten", secretary)
        with pytest.raises(Refused, match="once they are approved"):
            minutes.publish(meeting)
        minutes.approve(meeting, meeting.starts_at.date())
        assert minutes.publish(meeting) is True
        assert minutes.publish(meeting) is False  # twice: once
        for change in (
            lambda: minutes.save(meeting, "Anders", secretary),
            lambda: minutes.approve(meeting, meeting.starts_at.date()),
            lambda: minutes.check_writable(meeting),
        ):
            with pytest.raises(Refused, match="Withdraw the publication first"):
                change()
        assert minutes.unpublish(meeting) is True
        assert minutes.unpublish(meeting) is False
        assert meeting.minutes_approved_at is not None  # still approved while unchanged
        assert minutes.save(meeting, "Besluiten, verbeterd", secretary) is True
        assert meeting.minutes_approved_at is None  # what was approved is not this text
        with pytest.raises(Refused, match="once they are approved"):
            minutes.publish(meeting)
        db.session.commit()


def test_a_meeting_never_convened_gets_no_published_minutes(app):
    with app.test_request_context("/?lang=en"):
        secretary = make_user("secretary@example.org", board_role="secretary")
        meeting = make_meeting(-1)
        minutes.save(meeting, "Notulen", secretary)
        minutes.approve(meeting, meeting.starts_at.astimezone(AMSTERDAM).date())
        with pytest.raises(Refused, match="never convened"):
            minutes.publish(meeting)
        assert db.session.scalar(sa.select(Meeting.minutes_published_at)) is None


@pytest.mark.parametrize(
    ("markdown", "absent", "present"),
    [
        ("<script>alert(1)</script>", "<script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("[klik](javascript:alert(1))", 'href="javascript:', "[klik](javascript:alert(1))"),
        ("[klik](JaVaScRiPt:alert(1))", "href=", "[klik]"),
        ("[plaatje](data:text/html;base64,PHNjcmlwdD4=)", "href=", "[plaatje]"),
        ('<img src=x onerror="alert(1)">', "<img", "&lt;img src=x onerror="),
        ('<a href="https://x.example">x</a>', '<a href="https://x', "&lt;a href="),
        ("![x](javascript:alert(1))", "<img", "![x]"),
        ("<https://meentcoop.example/stukken>", "", 'href="https://meentcoop.example/stukken"'),
    ],
)
def test_markdown_is_rendered_with_html_and_unsafe_links_made_inert(markdown, absent, present):
    html = str(minutes.render(markdown))
    if absent:
        assert absent not in html
    assert present in html


def test_headings_move_below_the_page_title_in_their_order():
    html = str(minutes.render("# Notulen\n\n## Opening\n\n###### Diep", top_level=3))
    assert "<h3>Notulen</h3>" in html and "<h4>Opening</h4>" in html
    assert "<h6>Diep</h6>" in html  # never below h6
    assert "<h1>" not in html
    assert str(minutes.render("### Klein", top_level=2)) == "<h2>Klein</h2>\n"
    assert str(minutes.render("")) == ""
