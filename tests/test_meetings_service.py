"""The general meeting's rules on the services (issue 16): the notice period at its edge,
the 7 days of art. 2:42 for a change of the statutes, who is called by e-mail and who by
letter, sending once, the agenda's order, and the documents' checks."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    ConvocationChannel,
    ConvocationRecord,
    EventStatus,
    Meeting,
    MeetingStatus,
    MembershipStatus,
    OutboxMessage,
    User,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.services import meetings
from tests.factories import make_admin
from tests.meeting_fixtures import PDF, make_meeting, make_voter


def test_a_meeting_comes_with_its_draft_event(app):
    with app.app_context():
        meeting = make_meeting(30)
        assert meeting.notice_days == 14 and meeting.max_proxies_per_member == 1
        assert meeting.event.title == meeting.title
        assert meeting.event.starts_at == meeting.starts_at
        assert meeting.event.status == EventStatus.DRAFT
        assert meeting.status == MeetingStatus.DRAFT


@pytest.mark.parametrize(("days", "allowed"), [(14, True), (13, False)])
def test_the_notice_period_at_its_edge(app, days, allowed):
    with app.app_context():
        meeting = make_meeting(days)
        if allowed:
            meetings.check_can_convene(meeting)
        else:
            with pytest.raises(Refused, match=" 14 "):
                meetings.check_can_convene(meeting)


@pytest.mark.parametrize(("days", "allowed"), [(7, True), (6, False)])
def test_a_change_of_the_statutes_needs_7_days_even_when_the_statutes_ask_fewer(app, days, allowed):
    with app.app_context():
        meeting = make_meeting(days, items=(("Statutenwijziging", True),), notice_days=3)
        assert meetings.notice_needed(meeting) == 7
        if allowed:
            meetings.check_can_convene(meeting)
        else:
            with pytest.raises(Refused, match="2:42"):
                meetings.check_can_convene(meeting)
        plain = make_meeting(3, items=(("Begroting", False),), notice_days=3, title="Kort")
        meetings.check_can_convene(plain)  # 3 days' notice is enough without statutes


def test_a_meeting_without_agenda_is_not_convened(app):
    with app.app_context():
        meeting = make_meeting(30, items=())
        with pytest.raises(Refused, match="agenda"):
            meetings.check_can_convene(meeting)


def test_consenting_members_get_e_mail_the_others_a_letter_once(app):
    with app.app_context():
        admin = make_admin()
        _, by_mail = make_voter("mail@example.org", consent=True)
        _, by_post = make_voter("post@example.org")
        _, lapsed = make_voter("gone@example.org", consent=True)
        lapsed.status = MembershipStatus.LAPSED
        meeting = make_meeting(20)
        sent = meetings.convene(meeting, "Hierbij roepen wij u op.", admin)
        db.session.commit()
        assert (sent.emailed, sent.letters) == (1, 1)
        records = {
            r.membership_id: r for r in db.session.scalars(sa.select(ConvocationRecord)).all()
        }
        assert records[by_mail.id].channel == ConvocationChannel.EMAIL
        assert records[by_mail.id].email == "mail@example.org"
        assert records[by_post.id].channel == ConvocationChannel.LETTER
        assert lapsed.id not in records
        assert [m.id for m in meetings.letter_recipients(meeting)] == [by_post.id]
        outbox = db.session.scalars(sa.select(OutboxMessage)).all()
        assert [m.to_address for m in outbox if meeting.title in m.subject] == ["mail@example.org"]
        assert meeting.status == MeetingStatus.CONVENED
        assert meeting.event.status == EventStatus.PUBLISHED
        assert meeting.convened_at is not None
        with pytest.raises(Refused, match="al verstuurd"):
            meetings.convene(meeting, "Nog een keer", admin)
        with pytest.raises(Refused):
            meetings.add_item(meeting, "Te laat")


def test_items_move_and_are_removed_in_order(app):
    with app.app_context():
        meeting = make_meeting(30, items=(("A", False), ("B", False), ("C", False)))
        a, b, c = meeting.items
        meetings.move_item(c, -1)
        assert [i.title_nl for i in meeting.items] == ["A", "C", "B"]
        meetings.move_item(a, -1)  # already first: nothing changes
        assert [i.title_nl for i in meeting.items] == ["A", "C", "B"]
        meetings.remove_item(a)
        db.session.commit()
        db.session.expire_all()
        assert [(i.position, i.title_nl) for i in meeting.items] == [(1, "C"), (2, "B")]


def test_a_statutes_item_is_always_voted_on(app):
    with app.app_context():
        meeting = make_meeting(30, items=(("Statuten", True),))
        assert meeting.items[0].has_vote and meeting.changes_statutes


@pytest.mark.parametrize(
    ("content_type", "data", "message"),
    [
        ("text/plain", PDF, "PDF"),
        ("application/pdf", b"not a pdf at all", "PDF"),
        ("application/pdf", PDF + b"x" * 1000, "te groot: hoogstens 1 kB"),
    ],
)
def test_documents_must_be_pdfs_within_the_limit(app, monkeypatch, content_type, data, message):
    monkeypatch.setitem(app.config, "MEETING_DOCUMENT_MAX_BYTES", 1000)
    with app.app_context():
        item = make_meeting(30).items[0]
        with pytest.raises(Refused, match=message):
            meetings.add_document(item, "x.pdf", content_type, data)


def test_a_document_at_the_limit_is_kept_in_the_database_or_the_folder(app, monkeypatch, tmp_path):
    limit = len(PDF) + 10
    monkeypatch.setitem(app.config, "MEETING_DOCUMENT_MAX_BYTES", limit)
    data = PDF + b"x" * 10
    with app.app_context():
        item = make_meeting(30).items[0]
        in_db = meetings.add_document(item, "../../jaarrekening.pdf", "application/pdf", data)
        assert in_db.filename == "jaarrekening.pdf" and in_db.content == data
        monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
        on_disk = meetings.add_document(item, "begroting", "application/pdf", data)
        assert on_disk.content is None and on_disk.filename == "begroting.pdf"
        assert (tmp_path / on_disk.stored_name).read_bytes() == data
        assert meetings.document_bytes(on_disk) == data
        db.session.commit()


def test_days_are_counted_in_amsterdam(app):
    with app.app_context():
        meeting = make_meeting(14)
        late_evening = meeting.starts_at - timedelta(days=14, hours=0)
        assert meetings.days_ahead(meeting, late_evening) == 14
        assert meetings.days_ahead(meeting, utcnow()) == 14


def test_two_sends_at_the_same_moment_call_each_member_once(app):
    """Four board members press "send" together, each on their own connection: one
    convocation goes out, the others are refused (PostgreSQL too, with TEST_DATABASE_URL)."""
    with app.app_context():
        admin_id = make_admin().id
        for n in range(3):
            make_voter(f"m{n}@example.org", consent=n != 0)
        meeting_id = make_meeting(20).id
        mails_before = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait(timeout=30)
        with app.app_context():
            try:
                meeting = db.session.get(Meeting, meeting_id)
                meetings.convene(meeting, "Welkom", db.session.get(User, admin_id))
                db.session.commit()
                outcome = "sent"
            except Refused:
                db.session.rollback()
                outcome = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["refused", "refused", "refused", "sent"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ConvocationRecord.id))) == 3
        mails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
        assert mails - mails_before == 2


def test_a_statutes_change_keeps_its_documents_once_convened(app):
    """Art. 2:42 lid 2 BW: the text of a statutes change stays available from the
    convocation on; before it, and for other items, a document may be taken off."""
    with app.app_context():
        admin = make_admin()
        make_voter("mail@example.org", consent=True)
        meeting = make_meeting(20, items=(("Statuten", True), ("Begroting", False)))
        statutes, budget = meeting.items
        draft = meetings.add_document(statutes, "concept.pdf", "application/pdf", PDF)
        meetings.remove_document(draft)  # before the convocation: allowed
        text = meetings.add_document(statutes, "statuten.pdf", "application/pdf", PDF)
        other = meetings.add_document(budget, "begroting.pdf", "application/pdf", PDF)
        meetings.convene(meeting, "Hierbij roepen wij u op.", admin)
        db.session.commit()
        with pytest.raises(Refused, match="2:42"):
            meetings.remove_document(text)
        meetings.remove_document(other)
        db.session.commit()
        assert [d.filename for d in statutes.documents] == ["statuten.pdf"]
        assert budget.documents == []
