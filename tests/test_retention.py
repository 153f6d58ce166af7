"""How long personal data is kept: `coop purge` forgets guests with their e-mails, removes
sent mail after OUTBOX_KEEP_DAYS, and searches the whole database to prove it."""

from datetime import timedelta

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Event, OutboxMessage, OutboxStatus, Registration, User, utcnow
from cooperative.services import attendance
from tests.conftest import AuthActions, post_form
from tests.factories import make_admin, make_event, make_user

REGISTER = "/events/buurtdiner/register"
GUEST = ("Gerda Gastvrij", "gerda.gastvrij@example.org", "Gijs Gastvrij")


def places_holding(*needles: str) -> list[str]:
    """Every `table.column` of every table in the database whose value holds one of
    `needles` (case-insensitive), read row by row, whatever the column's type."""
    needles = tuple(needle.lower() for needle in needles)
    found = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for column, value in row._mapping.items():
                    if value is not None and any(n in str(value).lower() for n in needles):
                        found.append(f"{table.name}.{column}")
    return sorted(set(found))


def register_over_http(client, name: str, email: str, *people: str):
    data = {"contact_name": name, "contact_email": email, "submit": "register"}
    for index, person in enumerate((name, *people)):
        data[f"people-{index}-name"] = person
        data[f"people-{index}-meal"] = ""
    response = post_form(client, REGISTER, data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].removeprefix("/r/")


def move_event_back(event_id: int, days: int) -> None:
    event = db.session.get(Event, event_id)
    event.starts_at -= timedelta(days=days)
    event.ends_at -= timedelta(days=days)
    db.session.commit()


def test_after_the_purge_no_table_holds_the_guests_address_or_name(
    client, app, runner, smtp_server
):
    name, email, companion = GUEST
    with app.app_context():
        event_id = make_event(starts_in=timedelta(days=1)).id
        make_user("lid@example.org", name="Lotte Lid")
        admin_id = make_admin().id
    token = register_over_http(client, name, email, companion)
    member = app.test_client()
    AuthActions(member).login("lid@example.org")
    register_over_http(member, "Lotte Lid", "lid@example.org")
    with app.app_context():
        # The organisers write to every party: one more mail naming the guest.
        event, admin = db.session.get(Event, event_id), db.session.get(User, admin_id)
        attendance.send_message(event, "confirmed", "Tot morgen", "Neem een bord mee.", admin)
        db.session.commit()
    assert "Sent 4" in runner.invoke(args=["coop", "send-mail"]).output
    assert len(smtp_server.to(email)) == 2
    with app.app_context():
        assert "outbox_messages.to_address" in places_holding(email)
        assert "outbox_messages.body_text" in places_holding(name)
        move_event_back(event_id, 92)

    result = runner.invoke(args=["coop", "purge"])
    assert result.exit_code == 0, result.output
    assert "Removed the personal data of 1 guest registrations." in result.output

    with app.app_context():
        secret = token.split("-", 1)[1]
        assert places_holding(email, name, companion) == []
        # The private link still opens the page that says the data is removed.
        assert places_holding(secret) == ["registrations.manage_token"]
        # What is not the guest's stays: the member's registration and its recent mail.
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 2
        assert "outbox_messages.to_address" in places_holding("lid@example.org")
        assert "registrations.contact_email" in places_holding("lid@example.org")
    page = client.get(f"/r/{token}?lang=en").get_data(as_text=True)
    assert email not in page and name not in page


def test_a_guest_who_removes_their_data_takes_their_mail_with_it(client, app, runner):
    name, email, companion = GUEST
    with app.app_context():
        event_id = make_event(starts_in=timedelta(days=1)).id
    token = register_over_http(client, name, email, companion)
    assert "Sent 1" in runner.invoke(args=["coop", "send-mail"]).output
    with app.app_context():
        move_event_back(event_id, 2)
    assert post_form(client, f"/r/{token}/forget").status_code == 303
    with app.app_context():
        assert places_holding(email, name, companion) == []


def outbox_row(status: OutboxStatus, age: timedelta, address: str) -> None:
    then = utcnow() - age
    db.session.add(
        OutboxMessage(
            to_address=address,
            subject="Hallo",
            body_text=f"Hallo {address}",
            status=status,
            created_at=then,
            next_attempt_at=then,
            sent_at=then if status == OutboxStatus.SENT else None,
        )
    )


def test_sent_mail_is_removed_after_outbox_keep_days(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_KEEP_DAYS", 10)
    minute = timedelta(minutes=1)
    with app.app_context():
        outbox_row(OutboxStatus.SENT, timedelta(days=10) - minute, "sent-young@example.org")
        outbox_row(OutboxStatus.SENT, timedelta(days=10) + minute, "sent-old@example.org")
        outbox_row(OutboxStatus.FAILED, timedelta(days=10) - minute, "failed-young@example.org")
        outbox_row(OutboxStatus.FAILED, timedelta(days=10) + minute, "failed-old@example.org")
        # Still on its way (the mail server was away): it is never thrown away unsent.
        outbox_row(OutboxStatus.PENDING, timedelta(days=40), "waiting@example.org")
        db.session.commit()

    result = runner.invoke(args=["coop", "purge"])
    assert "Removed 2 e-mails sent or given up on more than 10 days ago." in result.output
    with app.app_context():
        left = sorted(db.session.scalars(sa.select(OutboxMessage.to_address)))
        assert left == ["failed-young@example.org", "sent-young@example.org", "waiting@example.org"]
        assert places_holding("sent-old@example.org", "failed-old@example.org") == []


def test_outbox_keep_days_defaults_to_thirty(app):
    assert app.config["OUTBOX_KEEP_DAYS"] == 30


def test_ended_mandates_and_their_collections_go_after_seven_years(app, runner):
    """The books are kept 7 years (fiscale bewaarplicht, art. 52 AWR): an ended mandate
    with its IBAN, and its collections, are kept that long after it ended and after its
    last debit, then deleted; a mandate in force never is. The payments stay."""
    from datetime import UTC, date, datetime

    from cooperative.models import (
        Collection,
        CollectionRun,
        CollectionStatus,
        MandateKind,
        MandateStatus,
        Membership,
        Payment,
        PaymentProvider,
        PaymentStatus,
        SepaMandate,
    )
    from cooperative.services import membership as memberships
    from cooperative.services import retention
    from tests.factories import make_member

    now = datetime(2034, 3, 1, 12, tzinfo=UTC)

    def mandate(membership, number, ended_at, debit_dates=()):
        found = SepaMandate(
            membership=membership,
            kind=MandateKind.OWN,
            status=MandateStatus.ENDED if ended_at else MandateStatus.ACTIVE,
            reference=f"MEENT-{membership.id:06d}-{number:02d}",
            iban="NL02ABNA0123456789",
            iban_last4="6789",
            account_holder="Ada",
            signed_on=date(2025, 1, 1),
            ended_at=ended_at,
        )
        db.session.add(found)
        for day in debit_dates:
            payment = Payment(
                provider=PaymentProvider.BANK_TRANSFER,
                status=PaymentStatus.PAID,
                amount_cents=2500,
                membership=membership,
            )
            db.session.add(
                Collection(
                    run=CollectionRun(debit_date=day, file_xml="<Document>NL02ABNA…</Document>"),
                    membership=membership,
                    mandate=found,
                    payment=payment,
                    amount_cents=2500,
                    debit_date=day,
                    period_ends_at=datetime(day.year, 12, 1, tzinfo=UTC),
                    status=CollectionStatus.PAID,
                    end_to_end_id=f"MEENT-DUES-{membership.id}{number}{day.year}",
                )
            )
        db.session.flush()
        return found.reference

    with app.app_context():
        ada = memberships.current_membership(make_member("ada@example.org"))
        bob = memberships.current_membership(make_member("bob@example.org"))
        old = mandate(ada, 1, datetime(2026, 6, 1, tzinfo=UTC), [date(2025, 3, 1)])
        # Ended just under 7 years ago: kept.
        young = mandate(ada, 2, datetime(2027, 3, 10, tzinfo=UTC), [date(2026, 9, 1)])
        # Ended long ago, but debited within 7 years (a late debit): kept.
        late = mandate(bob, 1, datetime(2026, 1, 1, tzinfo=UTC), [date(2027, 6, 1)])
        in_force = mandate(bob, 2, None, [date(2025, 4, 1)])
        payments = db.session.scalar(sa.select(sa.func.count(Payment.id)))
        db.session.commit()

        assert retention.purge_mandates(now=now) == 1
        db.session.commit()
        left = set(db.session.scalars(sa.select(SepaMandate.reference)))
        assert left == {young, late, in_force}
        assert old not in left
        assert db.session.scalar(sa.select(sa.func.count(Collection.id))) == 3
        # The run of the deleted collection went, with its file; the others stay.
        assert sorted(db.session.scalars(sa.select(CollectionRun.debit_date))) == [
            date(2025, 4, 1),
            date(2026, 9, 1),
            date(2027, 6, 1),
        ]
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == payments
        assert db.session.get(Membership, ada.id) is not None
        assert retention.purge_mandates(now=now) == 0

    result = runner.invoke(args=["coop", "purge"])
    assert result.exit_code == 0, result.output
    assert "direct debit mandates that ended more than 7 years ago" in result.output
