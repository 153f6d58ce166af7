"""The minutes of a general meeting over HTTP (issue 16): the secretary's page (fill in,
preview, save, approve, publish, withdraw) with bad input (422, the typing kept), who may
do what, and the published minutes as members read them."""

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Meeting
from tests.conftest import post_form
from tests.factories import AMSTERDAM, make_user
from tests.meeting_fixtures import make_meeting, make_voter
from tests.minutes_fixtures import a_held_meeting_with_its_rows, held_meeting


def _meeting(app, meeting_id: int) -> Meeting:
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        db.session.expunge(meeting)
        return meeting


def _people(app):
    with app.app_context():
        make_user("secretary@example.org", name="Sara Secretaris", board_role="secretary")
        make_voter("member@example.org", name="Mila Lid")
        make_user("guest@example.org")


def test_only_the_board_writes_the_minutes(client, app, auth):
    _people(app)
    with app.app_context():
        meeting_id = held_meeting().id
    page = f"/manage/meetings/{meeting_id}/minutes"
    assert client.get(page).status_code == 302  # to the log-in page
    for email in ("member@example.org", "guest@example.org"):
        auth.login(email)
        assert client.get(page).status_code == 403
        for action in ("", "/approve", "/publish", "/unpublish"):
            refused = post_form(client, page + action, {"text": "Ingebroken"})
            assert refused.status_code == 403
        auth.logout()
    assert _meeting(app, meeting_id).minutes_text == ""
    auth.login("secretary@example.org")
    assert client.get(page).status_code == 200
    assert client.get("/manage/meetings/999999/minutes").status_code == 404
    shown = client.get(f"/manage/meetings/{meeting_id}?lang=en")
    assert page in shown.text  # the way in, from the meeting's page


def test_before_the_meeting_starts_no_minutes_are_written(client, app, auth):
    _people(app)
    with app.app_context():
        meeting_id = make_meeting(5).id
    auth.login("secretary@example.org")
    page = f"/manage/meetings/{meeting_id}/minutes"
    shown = client.get(f"{page}?lang=en")
    assert "can be written once the meeting has started" in shown.text
    assert 'name="text"' not in shown.text
    for button in ("save", "fill", "preview"):
        refused = post_form(client, f"{page}?lang=en", {"text": "Te vroeg getypt", button: "1"})
        assert refused.status_code == 422
        assert "once the meeting has started" in refused.text
    assert _meeting(app, meeting_id).minutes_text == ""


def test_the_secretary_fills_in_previews_and_saves_the_minutes(client, app, auth):
    _people(app)
    with app.app_context():
        held = a_held_meeting_with_its_rows()
    auth.login("secretary@example.org")
    page = f"/manage/meetings/{held.id}/minutes?lang=en"
    filled = post_form(client, page, {"text": "Mijn eigen opening.", "fill": "1"})
    assert filled.status_code == 200
    # The draft comes after what was typed, into the text area (escaped as any text).
    assert "Mijn eigen opening.\n\n# Minutes: Algemene ledenvergadering" in filled.text
    assert "Cor Claassen → Ada \\*Lovelace\\*" in filled.text
    assert "- **Adopted**" in filled.text
    assert "Nothing is saved yet." in filled.text
    assert _meeting(app, held.id).minutes_text == ""  # nothing saved
    preview = post_form(
        client, page, {"text": "## Opening\n\n<script>x()</script>", "preview": "1"}
    )
    assert preview.status_code == 200
    assert "<h3>Opening</h3>" in preview.text and "&lt;script&gt;x()" in preview.text
    assert "<script>x()" not in preview.text
    saved = post_form(client, page, {"text": "## Opening\n\nDe voorzitter opent.", "save": "1"})
    assert saved.status_code == 303
    meeting = _meeting(app, held.id)
    assert meeting.minutes_text == "## Opening\n\nDe voorzitter opent."
    assert meeting.minutes_updated_at is not None
    with app.app_context():
        secretary_id = db.session.scalar(
            sa.select(Meeting.minutes_updated_by_id).where(Meeting.id == held.id)
        )
    assert secretary_id is not None
    shown = client.get(page)
    assert "by Sara Secretaris" in shown.text and "De voorzitter opent." in shown.text


def test_minutes_too_long_are_422_with_the_typing_kept(client, app, auth):
    _people(app)
    with app.app_context():
        meeting_id = held_meeting().id
    auth.login("secretary@example.org")
    page = f"/manage/meetings/{meeting_id}/minutes?lang=en"
    too_long = "Bijna goed. " + "x" * 100_000
    refused = post_form(client, page, {"text": too_long, "save": "1"})
    assert refused.status_code == 422
    assert "Please keep the minutes under 100000 characters." in refused.text
    assert "Bijna goed. xxxx" in refused.text
    assert _meeting(app, meeting_id).minutes_text == ""


def test_approval_takes_a_day_and_refusals_keep_it(client, app, auth):
    _people(app)
    with app.app_context():
        meeting_id = held_meeting(-2).id
    auth.login("secretary@example.org")
    base = f"/manage/meetings/{meeting_id}/minutes"
    shown = client.get(f"{base}?lang=en")
    meeting = _meeting(app, meeting_id)
    meeting_day = meeting.starts_at.astimezone(AMSTERDAM).date()
    today = meeting_day.fromordinal(meeting_day.toordinal() + 2)
    assert f'value="{today.isoformat()}"' in shown.text  # today, by default
    unsaved = post_form(client, f"{base}/approve?lang=en", {"approved_on": today.isoformat()})
    assert unsaved.status_code == 422 and "Write and save the minutes" in unsaved.text
    post_form(client, base, {"text": "Besluiten genomen.", "save": "1"})
    for typed, message in (
        ("", "Please give the day the minutes were approved."),
        ("31-12-2026", "Please give a day like 2026-12-31."),
        ("2026-02-30", "Please give a day like 2026-12-31."),
        (
            meeting_day.fromordinal(meeting_day.toordinal() - 1).isoformat(),
            "cannot be approved before the day of the meeting",
        ),
        (today.fromordinal(today.toordinal() + 1).isoformat(), "cannot be in the future"),
    ):
        refused = post_form(client, f"{base}/approve?lang=en", {"approved_on": typed})
        assert refused.status_code == 422, typed
        assert message in refused.text
        assert f'value="{typed}"' in refused.text or not typed
        assert "Besluiten genomen." in refused.text  # the saved text is still there
    assert _meeting(app, meeting_id).minutes_approved_at is None
    done = post_form(client, f"{base}/approve", {"approved_on": meeting_day.isoformat()})
    assert done.status_code == 303
    approved = _meeting(app, meeting_id).minutes_approved_at
    assert approved.astimezone(AMSTERDAM).date() == meeting_day


def test_members_read_only_published_minutes_and_publishing_locks_them(client, app, auth):
    _people(app)
    with app.app_context():
        held = held_meeting()
        slug, meeting_id = held.slug, held.id
    base = f"/manage/meetings/{meeting_id}/minutes"
    text = "## Besluiten\n\nDe jaarrekening is **vastgesteld**.\n\n[x](javascript:alert(1))"
    auth.login("secretary@example.org")
    post_form(client, base, {"text": text, "save": "1"})
    early = post_form(client, f"{base}/publish?lang=en", follow_redirects=True)
    assert "can be published once they are approved" in early.text
    assert _meeting(app, meeting_id).minutes_published_at is None
    auth.logout()
    auth.login("member@example.org")
    assert client.get(f"/meetings/{slug}/minutes").status_code == 404
    assert "vastgesteld" not in client.get(f"/meetings/{slug}").text
    auth.logout()
    auth.login("secretary@example.org")
    day = _meeting(app, meeting_id).starts_at.astimezone(AMSTERDAM).date().isoformat()
    post_form(client, f"{base}/approve", {"approved_on": day})
    assert post_form(client, f"{base}/publish").status_code == 303
    assert _meeting(app, meeting_id).minutes_published_at is not None
    again = post_form(client, f"{base}/publish?lang=en", follow_redirects=True)
    assert "The minutes were published already." in again.text, "a second tap is harmless"
    locked = client.get(f"{base}?lang=en")
    assert 'name="text"' not in locked.text and "Withdraw the publication" in locked.text
    refused = post_form(client, f"{base}?lang=en", {"text": "Stiekem anders", "save": "1"})
    assert refused.status_code == 422 and "Withdraw the publication first" in refused.text
    assert "Stiekem anders" in refused.text
    assert _meeting(app, meeting_id).minutes_text == text.strip()
    auth.logout()
    auth.login("member@example.org")
    page = client.get(f"/meetings/{slug}?lang=en")
    assert "<strong>vastgesteld</strong>" in page.text
    assert 'id="minutes-title"' in page.text and "<h3>Besluiten</h3>" in page.text
    assert 'href="javascript:' not in page.text  # Markdown's link to a script stays text
    own = client.get(f"/meetings/{slug}/minutes?lang=en")
    assert own.status_code == 200 and "<h2>Besluiten</h2>" in own.text
    assert 'href="javascript:' not in own.text
    listing = client.get("/meetings/?lang=en")
    assert f"/meetings/{slug}/minutes" in listing.text
    auth.logout()
    auth.login("guest@example.org")
    assert client.get(f"/meetings/{slug}/minutes").status_code == 403
    assert "vastgesteld" not in client.get(f"/meetings/{slug}").text
    auth.logout()
    assert client.get(f"/meetings/{slug}/minutes").status_code == 302
    assert "vastgesteld" not in client.get(f"/meetings/{slug}").text
    # Withdrawn: members no longer see them, and the text may change again.
    auth.login("secretary@example.org")
    assert post_form(client, f"{base}/unpublish").status_code == 303
    twice = post_form(client, f"{base}/unpublish?lang=en", follow_redirects=True)
    assert "The minutes were not published." in twice.text
    assert post_form(client, base, {"text": "Verbeterd", "save": "1"}).status_code == 303
    meeting = _meeting(app, meeting_id)
    assert (meeting.minutes_text, meeting.minutes_published_at) == ("Verbeterd", None)
    assert meeting.minutes_approved_at is None
    auth.logout()
    auth.login("member@example.org")
    assert client.get(f"/meetings/{slug}/minutes").status_code == 404
