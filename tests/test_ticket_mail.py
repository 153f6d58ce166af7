"""The confirmation e-mail carries each person's ticket: an HTML part beside the plain
text, with each ticket's QR code as an inline image, delivered by the outbox worker."""

import io

import pytest
import segno
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Attendee, OutboxMessage, Registration, RegistrationStatus
from tests.conftest import body_of, post_form
from tests.factories import make_event


@pytest.fixture
def event(app):
    with app.app_context():
        event = make_event(capacity=10, meals=[{"name": "Diner", "price_cents": 500}])
        return {"dinner": event.meal_options[0].id}


def register(client, event, names, lang="en", submit="register"):
    data = {"contact_name": "Ada de Vries", "contact_email": "ada@example.org"}
    for index, name in enumerate(names):
        data[f"people-{index}-name"] = name
        data[f"people-{index}-meal"] = str(event["dinner"]) if index == 0 else ""
    return post_form(client, f"/events/buurtdiner/register?lang={lang}", {**data, "submit": submit})


def segno_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_confirmation_mail_carries_each_ticket_with_its_qr_code(
    client, app, runner, smtp_server, event, lang
):
    assert register(client, event, ["Ada", "Bob"], lang).status_code == 303
    with app.app_context():
        [row] = db.session.scalars(sa.select(OutboxMessage)).all()
        # The request queued each ticket's link; the worker draws its QR code as it sends.
        queued = [a["content"] for a in row.attachments if a.get("content_id")]
        assert queued == [
            f"{app.config['BASE_URL']}/t/{person.ticket}"
            for person in db.session.scalars(sa.select(Attendee).order_by(Attendee.id))
        ]
    result = runner.invoke(args=["coop", "send-mail"])
    assert result.exit_code == 0, result.output
    [message] = smtp_server.to("ada@example.org")

    # The plain text stays, first; the HTML part is the alternative a mail app shows.
    assert message.get_content_type() == "multipart/mixed"
    assert "Ada" in body_of(message)
    html = message.get_body(("html",))
    assert html is not None
    html_text = html.get_content()
    related = next(p for p in message.walk() if p.get_content_type() == "multipart/related")
    images = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    # The calendar file is still attached, apart from the tickets.
    assert [p.get_filename() for p in message.iter_attachments()] == ["buurtdiner.ics"]

    with app.app_context():
        people = db.session.scalars(sa.select(Attendee).order_by(Attendee.id)).all()
        urls = [f"{app.config['BASE_URL']}/t/{person.ticket}" for person in people]
    assert len(people) == 2 and len(images) == 2
    for person, url in zip(people, urls, strict=True):
        cid = f"ticket-{person.id}@tickets.meentcoop"
        [image] = [p for p in images if p["Content-ID"] == f"<{cid}>"]
        # The image is the QR code of the ticket's own link, as segno makes it.
        assert image.get_content() == segno_png(url)
        assert f'src="cid:{cid}"' in html_text
        assert url in html_text
    name = "Ticket of Bob" if lang == "en" else "Kaartje van Bob"
    assert name in html_text


def test_no_ticket_while_on_the_waiting_list(client, app, runner, smtp_server):
    with app.app_context():
        make_event(capacity=0)
    register(client, {"dinner": None}, ["Ada"], submit="waitlist")
    with app.app_context():
        [registration] = db.session.scalars(sa.select(Registration)).all()
        assert registration.status == RegistrationStatus.WAITLISTED
        [row] = db.session.scalars(sa.select(OutboxMessage)).all()
        assert row.body_html == ""
        assert all("content_id" not in a for a in row.attachments)
    runner.invoke(args=["coop", "send-mail"])
    [message] = smtp_server.to("ada@example.org")
    assert message.get_body(("html",)) is None
    assert not any(p.get_content_type() == "image/png" for p in message.walk())
