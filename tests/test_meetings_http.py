"""The general meeting over HTTP (issue 16): the board's pages (create, agenda, documents,
the convocation with preview and send, the letters), the members' pages and documents, who
may see what, bad input (422 with the typing kept), the mail through a real SMTP server,
and the meeting page's queries."""

import io
import re

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    AgendaDocument,
    ConvocationRecord,
    Meeting,
    OutboxMessage,
    User,
    VoteWeighting,
)
from cooperative.services import mail, meetings
from tests.conftest import body_of, post_form
from tests.factories import AMSTERDAM, make_admin, make_user
from tests.meeting_fixtures import PDF, make_meeting, make_voter, ref


def _convened(app, days=20, **fields):
    """A meeting convened, with a PDF on its first item."""
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.is_admin).limit(1))
        meeting = make_meeting(days, **fields)
        meetings.add_document(meeting.items[0], "jaarrekening.pdf", "application/pdf", PDF)
        meetings.convene(meeting, "U bent van harte welkom.", admin or make_admin("b@example.org"))
        db.session.commit()
        return ref(meeting)


def _upload(client, url, field, data, filename="stuk.pdf", content_type="application/pdf"):
    return post_form(
        client,
        url,
        {field: (io.BytesIO(data), filename, content_type)},
        content_type="multipart/form-data",
    )


# --- who may ------------------------------------------------------------------------


def test_only_the_board_and_admins_manage_meetings(client, app, auth):
    with app.app_context():
        make_voter("member@example.org")
        make_user("secretary@example.org", board_role="secretary")
        make_admin()
    assert client.get("/manage/meetings/").status_code == 302
    auth.login("member@example.org")
    assert client.get("/manage/meetings/").status_code == 403
    assert post_form(client, "/manage/meetings/new", {"title": "x"}).status_code == 403
    auth.logout()
    auth.login("secretary@example.org")
    assert client.get("/manage/meetings/").status_code == 200
    assert "/manage/meetings/" in client.get("/meetings/").text  # the way in, from the menu
    auth.logout()
    auth.login("admin@example.org")
    assert client.get("/manage/meetings/new").status_code == 200


def test_the_board_role_is_given_and_taken_on_the_command_line(app, runner):
    with app.app_context():
        make_user("chair@example.org")
    result = runner.invoke(args=["coop", "board-role", "Chair@example.org", "chair"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "chair@example.org"))
        assert user.board_role == "chair" and user.is_board and not user.is_admin
    assert runner.invoke(args=["coop", "board-role", "chair@example.org", "none"]).exit_code == 0
    with app.app_context():
        assert not db.session.scalar(sa.select(User.board_role).where(User.id == user.id))
    unknown = runner.invoke(args=["coop", "board-role", "nobody@example.org", "chair"])
    assert unknown.exit_code != 0 and "No account" in unknown.output


def test_members_read_the_meeting_others_are_told_it_is_for_members(client, app, auth):
    with app.app_context():
        make_admin()
        make_voter("member@example.org")
        make_user("guest@example.org")
        draft = make_meeting(40, title="Nog niet bijeengeroepen")
        draft_slug = draft.slug
    meeting = _convened(app)
    with app.app_context():
        document_id = db.session.scalar(sa.select(AgendaDocument.id))
    page = f"/meetings/{meeting.slug}"
    pdf = f"{page}/documents/{document_id}"
    public = client.get(f"{page}?lang=en")  # that it exists, and when: nothing more
    assert public.status_code == 200 and meeting.title in public.text
    assert "Log in" in public.text and "Jaarrekening" not in public.text
    assert "Buurthuis" not in public.text and "jaarrekening.pdf" not in public.text
    assert client.get(pdf).status_code == 302  # to the log-in page
    auth.login("guest@example.org")
    refused = client.get(f"{page}?lang=en")
    assert refused.status_code == 403 and "for members of the cooperative only" in refused.text
    assert meeting.title in refused.text and "Jaarrekening" not in refused.text
    assert client.get(pdf).status_code == 403
    titles = client.get("/meetings/")
    assert titles.status_code == 200 and meeting.title in titles.text
    assert "Buurthuis" not in titles.text
    auth.logout()
    auth.login("member@example.org")
    shown = client.get(f"{page}?lang=en")
    assert shown.status_code == 200
    assert "Jaarrekening 2026" in shown.text and "jaarrekening.pdf" in shown.text
    assert "Register to attend" in shown.text
    download = client.get(pdf)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert "no-store" in download.headers["Cache-Control"]
    assert client.get(f"/meetings/{draft_slug}").status_code == 404
    listing = client.get("/meetings/").text
    assert meeting.title in listing and "Nog niet bijeengeroepen" not in listing


# --- the board's forms ----------------------------------------------------------------


def test_the_board_creates_a_meeting_and_its_agenda(client, app, auth):
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    bad = post_form(
        client,
        "/manage/meetings/new?lang=en",
        {
            "title": "ALV juni",
            "starts_at": "2030-06-12T19:30",
            "ends_at": "2030-06-12T18:00",
            "location": "Buurthuis",
            "notice_days": "14",
            "max_proxies_per_member": "1",
        },
    )
    assert bad.status_code == 422
    assert "The meeting must end after it starts." in bad.text
    assert 'checked id="vote_weighting-0"' in bad.text  # one member, one vote unless chosen
    assert 'value="Buurthuis"' in bad.text and 'value="ALV juni"' in bad.text
    made = post_form(
        client,
        "/manage/meetings/new",
        {
            "title": "ALV juni",
            "starts_at": "2030-06-12T19:30",
            "ends_at": "2030-06-12T22:00",
            "location": "Buurthuis",
            "online_url": "https://meet.example.org/alv",
            "notice_days": "21",
            "proxies_allowed": "y",
            "max_proxies_per_member": "2",
            "vote_weighting": "per_share",
        },
    )
    assert made.status_code == 303
    with app.app_context():
        meeting = db.session.scalar(sa.select(Meeting))
        assert (meeting.slug, meeting.notice_days, meeting.max_proxies_per_member) == (
            "alv-juni",
            21,
            2,
        )
        assert meeting.vote_weighting == VoteWeighting.PER_SHARE
        assert (meeting.location, meeting.event.venue, meeting.event.address) == (
            "Buurthuis",
            "",
            "",
        )
        meeting_id = meeting.id
    base = f"/manage/meetings/{meeting_id}"
    empty = post_form(client, f"{base}/items?lang=en", {"description": "Uitleg blijft"})
    assert empty.status_code == 422
    assert "Please give the item a title." in empty.text and "Uitleg blijft" in empty.text
    for title in ("Opening", "Jaarrekening", "Statutenwijziging"):
        data = {"title_nl": title}
        if title == "Statutenwijziging":
            data["changes_statutes"] = "y"
        assert post_form(client, f"{base}/items", data).status_code == 303
    with app.app_context():
        items = db.session.get(Meeting, meeting_id).items
        ids = [item.id for item in items]
    assert post_form(client, f"{base}/items/{ids[2]}/move", {"direction": "up"}).status_code == 303
    assert post_form(client, f"{base}/items/{ids[0]}/remove").status_code == 303
    assert post_form(client, f"{base}/items/{ids[1]}/move", {"direction": "x"}).status_code == 400
    with app.app_context():
        items = db.session.get(Meeting, meeting_id).items
        assert [i.title_nl for i in items] == ["Statutenwijziging", "Jaarrekening"]
        assert items[0].has_vote and items[0].changes_statutes


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        (b"just text", "text/plain", "Please choose a PDF file."),
        (b"MZ not a pdf", "application/pdf", "Please choose a PDF file."),
        (PDF + b"x" * 2000, "application/pdf", "The file is too large"),
    ],
)
def test_an_upload_that_is_no_pdf_or_too_large_is_422(
    client, app, auth, monkeypatch, data, content_type, message
):
    monkeypatch.setitem(app.config, "MEETING_DOCUMENT_MAX_BYTES", 2000)
    with app.app_context():
        make_admin()
        meeting = ref(make_meeting(30))
        item_id = meeting.item_ids[0]
    auth.login("admin@example.org")
    url = f"/manage/meetings/{meeting.id}/items/{item_id}/documents?lang=en"
    refused = _upload(client, url, f"item-{item_id}-file", data, content_type=content_type)
    assert refused.status_code == 422 and message in refused.text
    assert "Jaarrekening 2026" in refused.text  # the page with the agenda, not an error page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AgendaDocument.id))) == 0
    accepted = _upload(client, url, f"item-{item_id}-file", PDF)
    assert accepted.status_code == 303
    board_copy = client.get(f"/manage/meetings/{meeting.id}/documents/1")
    assert board_copy.status_code == 200 and board_copy.data == PDF


# --- the convocation ------------------------------------------------------------------


def test_the_convocation_refuses_too_little_notice_and_the_statutes_rule(client, app, auth):
    with app.app_context():
        make_admin()
        short = ref(make_meeting(13))
        statutes = ref(make_meeting(6, items=(("Statuten", True),), notice_days=3, title="Kort"))
    auth.login("admin@example.org")
    for meeting, message in ((short, "at least 14 days"), (statutes, "art. 2:42")):
        url = f"/manage/meetings/{meeting.id}/convocation?lang=en"
        assert message in client.get(url).text
        refused = post_form(client, url, {"text": "Mijn tekst blijft", "send": "1"})
        assert refused.status_code == 422
        assert message in refused.text and "Mijn tekst blijft" in refused.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ConvocationRecord.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_preview_send_once_e_mail_to_consenting_members_letters_for_the_rest(
    client, app, auth, smtp_server
):
    with app.app_context():
        make_admin()
        make_voter("mail@example.org", consent=True, name="Mila Mail")
        make_voter("post@example.org", name="Piet Post", street="Poststraat")
        meeting = ref(make_meeting(14, items=(("Jaarrekening 2026", False), ("Statuten", True))))
        mail.send_pending()  # the welcome mails of joining
    smtp_server.messages.clear()
    auth.login("admin@example.org")
    url = f"/manage/meetings/{meeting.id}/convocation?lang=en"
    form = client.get(url).text
    assert "It goes by e-mail to 1 member who agreed" in form
    assert "1 member gets a letter" in form
    preview = post_form(client, url, {"text": "Hierbij roepen wij u op.", "preview": "1"})
    assert preview.status_code == 200
    assert "Hierbij roepen wij u op." in preview.text and "Jaarrekening 2026" in preview.text
    with app.app_context():
        assert mail.send_pending() == (0, 0)
    empty = post_form(client, url, {"text": "", "send": "1"})
    assert empty.status_code == 422 and "Please write the text of the convocation." in empty.text
    sent = post_form(client, url, {"text": "Hierbij roepen wij u op.", "send": "1"})
    assert sent.status_code == 303
    again = post_form(client, url, {"text": "Nog eens", "send": "1"})
    assert again.status_code == 422 and "has already been sent" in again.text
    with app.app_context():
        assert mail.send_pending() == (1, 0)
        records = db.session.scalars(sa.select(ConvocationRecord)).all()
        assert sorted(r.channel.value for r in records) == ["email", "letter"]
        assert all(r.sent_at is not None for r in records)
    (message,) = smtp_server.to("mail@example.org")
    assert smtp_server.to("post@example.org") == []
    body = body_of(message)
    assert "Hierbij roepen wij u op." in body and "Beste Mila Mail" in body
    assert "1. Jaarrekening 2026" in body and "2. Statuten" in body
    assert f"/meetings/{meeting.slug}" in body
    letters = client.get(f"/manage/meetings/{meeting.id}/letters?lang=en").text
    assert "Poststraat" in letters and "Piet Post" in letters and "Mila Mail" not in letters
    assert "Hierbij roepen wij u op." in letters
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ConvocationRecord.id))) == 2
        assert mail.send_pending() == (0, 0)


# --- queries --------------------------------------------------------------------------


def test_the_meeting_page_costs_the_same_queries_for_1_and_6_items(
    client, app, auth, count_queries
):
    with app.app_context():
        make_voter("member@example.org")
    small = _convened(app, title="Klein")
    big = _convened(app, title="Groot", items=[(f"Punt {n}", n == 3) for n in range(6)])
    with app.app_context():
        for item in db.session.get(Meeting, big.id).items:
            meetings.add_document(item, "stuk.pdf", "application/pdf", PDF)
        db.session.commit()
    auth.login("member@example.org")
    client.get(f"/meetings/{small.slug}")
    with count_queries as counted:
        assert client.get(f"/meetings/{small.slug}").status_code == 200
    few = counted.count
    with count_queries as counted:
        assert client.get(f"/meetings/{big.slug}").status_code == 200
    assert counted.count == few


def test_the_meeting_is_changed_in_amsterdam_time_until_it_is_convened(client, app, auth):
    with app.app_context():
        make_admin()
        meeting = ref(make_meeting(30))
    auth.login("admin@example.org")
    form = client.get(f"/manage/meetings/{meeting.id}/edit").text
    assert 'value="14"' in form
    day = re.search(r'name="starts_at"[^>]*value="([0-9-]{10})T19:30"', form).group(1)
    changed = post_form(
        client,
        f"/manage/meetings/{meeting.id}/edit",
        {
            "title": "ALV najaar",
            "starts_at": f"{day}T20:00",
            "ends_at": f"{day}T22:00",
            "notice_days": "14",
            "max_proxies_per_member": "1",
        },
    )
    assert changed.status_code == 303
    with app.app_context():
        saved = db.session.get(Meeting, meeting.id)
        assert saved.event.title == "ALV najaar"
        assert saved.event.starts_at == saved.starts_at
        assert saved.starts_at.astimezone(AMSTERDAM).strftime("%H:%M") == "20:00"
        meetings.convene(saved, "Welkom", db.session.scalar(sa.select(User)))
        db.session.commit()
    late = post_form(
        client,
        f"/manage/meetings/{meeting.id}/edit?lang=en",
        {
            "title": "Toch anders",
            "starts_at": f"{day}T21:00",
            "ends_at": f"{day}T22:00",
            "notice_days": "14",
            "max_proxies_per_member": "1",
        },
    )
    assert late.status_code == 422 and "stay as they were sent" in late.text
    assert 'value="Toch anders"' in late.text
    item = post_form(client, f"/manage/meetings/{meeting.id}/items", {"title_nl": "Extra"})
    assert item.status_code == 422
    with app.app_context():
        assert db.session.get(Meeting, meeting.id).title == "ALV najaar"
        assert len(db.session.get(Meeting, meeting.id).items) == 1


def test_a_document_may_be_larger_than_other_requests_up_to_its_own_limit(
    client, app, auth, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 5000)
    monkeypatch.setitem(app.config, "MEETING_DOCUMENT_MAX_BYTES", 20000)
    with app.app_context():
        make_admin()
        meeting = ref(make_meeting(30))
    auth.login("admin@example.org")
    item = meeting.item_ids[0]
    url = f"/manage/meetings/{meeting.id}/items/{item}/documents"
    assert _upload(client, url, f"item-{item}-file", PDF + b"x" * 10000).status_code == 303
    huge = PDF + b"x" * (20000 + 70 * 1024)
    assert _upload(client, url, f"item-{item}-file", huge).status_code == 413
    too_big_elsewhere = post_form(
        client, f"/manage/meetings/{meeting.id}/items", {"description": "x" * 6000}
    )
    assert too_big_elsewhere.status_code == 413


def test_a_statutes_change_text_is_not_removed_after_the_convocation(client, app, auth):
    with app.app_context():
        make_admin()
    meeting = _convened(app, items=(("Statutenwijziging", True),))
    with app.app_context():
        document_id = db.session.scalar(sa.select(AgendaDocument.id))
    auth.login("admin@example.org")
    url = f"/manage/meetings/{meeting.id}/documents/{document_id}/remove"
    refused = post_form(client, f"{url}?lang=en")
    assert refused.status_code == 303
    shown = client.get(refused.headers["Location"] + "?lang=en")
    assert "art. 2:42 lid 2 BW" in shown.text
    with app.app_context():
        assert db.session.get(AgendaDocument, document_id) is not None
