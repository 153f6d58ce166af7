"""How the attendance list reads: how a party stands with its money (the template filter
`payment_words`, also on the ticket and the printed list), and the columns of the CSV
file. The service gives numbers and states; the words are here."""

from collections.abc import Iterator
from functools import lru_cache

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...i18n import current_locale, diet_list
from ...models import Event, PaymentState, Registration, RegistrationStatus
from ...money import format_amount, format_euros
from ...services.attendance import PartyRow, short_code


@lru_cache(maxsize=1024)
def _money_in(cents: int, locale: str) -> str:
    return format_euros(cents)


def _money(cents: int) -> str:
    """`format_euros(cents)` in the current language, formatted once: a page of the list shows
    the same few amounts again and again, and babel takes its time over each."""
    return _money_in(cents, current_locale())


def payment_words(row: PartyRow) -> str:
    """How a party of the list stands with its money, in words: paid online, paid at the
    door, to pay at the door, paying online, refunded, or nothing to pay."""
    registration, online_cents, door_cents = (
        row.registration,
        row.paid_online_cents,
        row.paid_at_door_cents,
    )
    parts = []
    if registration.payment_state == PaymentState.REFUNDED:
        return str(_l("Refunded"))
    if online_cents:
        parts.append(str(_l("Paid online %(amount)s", amount=_money(online_cents))))
    if door_cents:
        parts.append(str(_l("Paid at the door %(amount)s", amount=_money(door_cents))))
    open_cents = registration.amount_open_cents
    if registration.status == RegistrationStatus.WAITLISTED:
        if open_cents:
            parts.append(
                str(_l("Pays %(amount)s when they get a place", amount=_money(open_cents)))
            )
    elif registration.status == RegistrationStatus.PENDING_PAYMENT:
        parts.append(str(_l("Paying online: %(amount)s not paid yet", amount=_money(open_cents))))
    elif registration.status == RegistrationStatus.CONFIRMED and open_cents:
        parts.append(str(_l("To pay at the door %(amount)s", amount=_money(open_cents))))
    return "; ".join(parts) or str(_l("Nothing to pay"))


def status_words(registration: Registration) -> str:
    """Where a party stands, in a word or two."""
    return {
        "confirmed": _("Confirmed"),
        "pending_payment": _("Paying online"),
        "waitlisted": _("Waiting list"),
        "cancelled": _("Cancelled"),
    }[registration.status]


def csv_columns() -> list[str]:
    """The headers of the attendance CSV file, in the reader's language."""
    return [
        _("Party"),
        _("Contact e-mail"),
        _("Name"),
        _("Meal"),
        _("Diets"),
        _("Note for the kitchen"),
        _("Status"),
        _("Price"),
        _("Payment"),
        _("Checked in"),
        _("Checked in by"),
        _("Ticket code"),
    ]


def csv_rows(event: Event, rows: list[PartyRow], meals: dict[int, str]) -> Iterator[list]:
    """One row of the attendance CSV file per person of `rows`, under `csv_columns()`."""
    for row in rows:
        registration = row.registration
        for person in row.attendees:
            yield [
                registration.contact_name,
                registration.contact_email,
                person.name,
                meals.get(person.meal_option_id, ""),
                diet_list(person.diets),
                person.diet_note,
                _("Cancelled") if person.cancelled_at else status_words(registration),
                format_amount(event.ticket_price_cents + person.meal_price_cents),
                payment_words(row),
                format_datetime(person.checked_in_at, "yyyy-MM-dd HH:mm")
                if person.checked_in_at
                else "",
                row.checked_in_by(person),
                short_code(person),
            ]
