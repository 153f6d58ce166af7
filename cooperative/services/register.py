"""The member register (ledenregister, art. 2:61 BW) kept on each `Membership`.

What the register holds of each member: the member number, the name and address as
registered, the day of admission and the board's decision, the shares held, and the day
and way of leaving. Beside it: the member's consent to official notices by e-mail
(art. 2:41 lid 5 BW), and the cancellation in writing (received, acknowledged at once,
and the day it takes effect).

The day a cancellation takes effect follows the statutes (settings):
`MEMBERSHIP_NOTICE_WEEKS` (4) after the day it was received, and then, when
`MEMBERSHIP_LEAVE_AT_YEAR_END` is on (as art. 2:36 lid 3 BW says unless the statutes say
otherwise), at the first end of a financial year on or after that day
(`FINANCIAL_YEAR_END`, "12-31"). The daily job (`membership.send_reminders_and_lapse`)
ends the membership on that day (`end_after_notice`).

Services flush; the caller commits. Nothing here imports `services.membership`, which
uses this module.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import local_zone
from ..models import LeavingWay, Membership, MembershipStatus, User, utcnow
from ..refusals import Refused
from . import share_changes, share_totals, shares
from .mail import external_url, queue_mail
from .register_letters import admission_letter, cancellation_letter

# A Dutch postcode: four digits (the first not 0), then two letters; "1234AB",
# "1234 ab" and "1234  AB" are all written as "1234 AB".
DUTCH_POSTCODE = re.compile(r"([1-9][0-9]{3}) *([A-Za-z]{2})")
# SA, SD and SS are never given out as postcode letters.
UNUSED_LETTERS = ("SA", "SD", "SS")


@dataclass(frozen=True)
class Address:
    """The name and address a member is registered with."""

    registered_name: str
    street: str
    house_number: str
    postcode: str
    city: str
    country: str = "NL"


def normalise_postcode(postcode: str, country: str) -> str:
    """The postcode as the register writes it: a Dutch one as "1234 AB"; another
    country's as typed (trimmed). Refuses a Dutch postcode that does not fit the pattern,
    and an empty one."""
    postcode = " ".join((postcode or "").split())
    if not postcode:
        raise Refused(_l("Please fill in your postcode."), "postcode")
    if country != "NL":
        return postcode
    match = DUTCH_POSTCODE.fullmatch(postcode)
    if match is None or match.group(2).upper() in UNUSED_LETTERS:
        raise Refused(
            _l("A Dutch postcode is four digits and two letters, e.g. 1011 AB."), "postcode"
        )
    return f"{match.group(1)} {match.group(2).upper()}"


def checked_address(address: Address) -> Address:
    """The address with its postcode normalised and its text trimmed; refuses an empty
    name, street, house number or city, a country code that is not two letters, and a
    bad Dutch postcode (`normalise_postcode`)."""
    country = (address.country or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise Refused(_l("Please choose a country."), "country")
    for field, value, message in (
        ("registered_name", address.registered_name, _l("Please fill in your full name.")),
        ("street", address.street, _l("Please fill in your street.")),
        ("house_number", address.house_number, _l("Please fill in your house number.")),
        ("city", address.city, _l("Please fill in your town or city.")),
    ):
        if not (value or "").strip():
            raise Refused(message, field)
    return Address(
        registered_name=" ".join(address.registered_name.split()),
        street=address.street.strip(),
        house_number=address.house_number.strip(),
        postcode=normalise_postcode(address.postcode, country),
        city=address.city.strip(),
        country=country,
    )


def save_address(membership: Membership, address: Address) -> None:
    """Register `address` for the member (refusals as in `checked_address`)."""
    address = checked_address(address)
    membership.registered_name = address.registered_name
    membership.street = address.street
    membership.house_number = address.house_number
    membership.postcode = address.postcode
    membership.city = address.city
    membership.country = address.country


def address_of(membership: Membership) -> Address:
    return Address(
        membership.registered_name,
        membership.street,
        membership.house_number,
        membership.postcode,
        membership.city,
        membership.country,
    )


KVK_NUMBER = re.compile(r"[0-9]{8}")


def set_legal_person(membership: Membership, organisation_name: str, kvk_number: str) -> None:
    """Mark the entry as a legal person's membership (a collective, a small business)
    with its name and Chamber of Commerce (KvK) number, or as a person's again with an
    empty name. The KvK number is 8 digits (spaces and dots dropped), or empty for an
    organisation registered abroad.

    Refuses a KvK number without the organisation's name, one that is not 8 digits,
    and making a person's membership of one that holds shares of a class for legal
    persons."""
    organisation_name = " ".join((organisation_name or "").split())
    kvk_number = "".join(ch for ch in (kvk_number or "") if ch not in " .")
    if kvk_number and not organisation_name:
        raise Refused(_l("Please fill in the organisation's name too."), "organisation_name")
    if kvk_number and not KVK_NUMBER.fullmatch(kvk_number):
        raise Refused(_l("A KvK number has 8 digits."), "kvk_number")
    if not organisation_name and shares.holds_legal_person_shares(membership):
        raise Refused(
            _l("This member holds shares for legal persons: it stays a legal person."),
            "organisation_name",
        )
    membership.organisation_name = organisation_name[:200]
    membership.kvk_number = kvk_number
    db.session.flush()


def set_email_notices(membership: Membership, consent: bool, now: datetime | None = None) -> None:
    """Record or withdraw the consent to official notices by e-mail. Giving it again
    keeps the day it was first given."""
    if consent:
        membership.email_notices_consent_at = membership.email_notices_consent_at or (
            now or utcnow()
        )
    else:
        membership.email_notices_consent_at = None


def enter(
    membership: Membership,
    user: User,
    address: Address | None,
    email_notices: bool,
    now: datetime | None = None,
) -> None:
    """What joining writes in the register, before any letter: the address (refused as
    in `checked_address`), the name (the account's when none is given) and the consent
    to notices by e-mail."""
    if address is not None:
        save_address(membership, address)
    membership.registered_name = membership.registered_name or user.name
    set_email_notices(membership, email_notices, now)


def admit(membership: Membership, now: datetime | None = None) -> list[dict]:
    """A membership becomes active: the day of admission (a new one after leaving), any
    leaving forgotten, and the letter of admission (a PDF, for the welcome e-mail),
    recorded as sent. No letter without an account to send it to."""
    now = now or utcnow()
    if membership.admitted_on is None or membership.leaving_way is not None:
        membership.admitted_on = today(now)
    membership.leaving_way = membership.leaves_on = None
    membership.cancellation_received_on = membership.cancellation_acknowledged_at = None
    if membership.user is None:
        return []
    membership.admission_letter_sent_at = now
    return [admission_letter(membership, membership.user.locale)]


# --- leaving -------------------------------------------------------------------------


def today(now: datetime | None = None) -> date:
    """The day it is in the cooperative's time zone."""
    return (now or utcnow()).astimezone(local_zone()).date()


def notice_end_date(received_on: date) -> date:
    """The day a cancellation received on `received_on` ends the membership (the
    statutes' notice period; see the module docstring)."""
    end = received_on + timedelta(weeks=current_app.config["MEMBERSHIP_NOTICE_WEEKS"])
    if current_app.config["MEMBERSHIP_LEAVE_AT_YEAR_END"]:
        return shares.financial_year_end_on_or_after(end)
    return end


def cancel(
    membership: Membership,
    received_on: date | None = None,
    now: datetime | None = None,
) -> date:
    """A member cancels in writing (on the site, or by a letter an admin records as
    received on `received_on`): record it, e-mail the acknowledgement with the end date
    at once (with the letter as a PDF), and mark the member's shares for repayment.
    Returns the day the membership ends.

    Refuses a membership that is not active, one already cancelled, and a letter dated
    in the future.
    """
    now = now or utcnow()
    received_on = received_on or today(now)
    if membership.status != MembershipStatus.ACTIVE:
        raise Refused(_l("Only an active membership can be cancelled."))
    if membership.cancellation_received_on is not None:
        raise Refused(_l("This membership has been cancelled already."))
    if received_on > today(now):
        raise Refused(_l("The day it was received cannot be in the future."), "received_on")
    membership.cancellation_received_on = received_on
    membership.leaves_on = notice_end_date(received_on)
    membership.leaving_way = LeavingWay.CANCELLED_BY_MEMBER
    db.session.flush()
    if _acknowledge(membership):
        membership.cancellation_acknowledged_at = now
    mark_shares_for_repayment(membership, now)
    if membership.leaves_on <= today(now):
        _end(membership, membership.leaves_on)
    return membership.leaves_on


def mark_shares_for_repayment(membership: Membership, now: datetime) -> None:
    """The one place where leaving reaches the member's shares: they are repaid after
    the end of the financial year in which the membership ends."""
    shares.mark_for_repayment(membership, now, leaves_on=membership.leaves_on)


def lapse(membership: Membership, now: datetime) -> None:
    """A yearly membership lapses (its fee not paid within the grace period, or its dues
    taken back by the bank after it): it ends now, and its shares are marked for
    repayment as for any leaving. Paying again brings the member back (`come_back`)."""
    membership.status = MembershipStatus.LAPSED
    membership.left_at = now
    membership.leaving_way = LeavingWay.LAPSED
    db.session.flush()
    mark_shares_for_repayment(membership, now)


def come_back(membership: Membership, now: datetime) -> None:
    """A lapsed member paid again: they are a member with the same number, and the
    shares that lapsing marked for repayment (and were not repaid yet) are theirs again.
    After a cancellation the shares stay marked."""
    membership.status = MembershipStatus.ACTIVE
    membership.left_at = None
    membership.leaving_way = None
    if membership.leaves_on is None:
        share_changes.keep_after_return(membership, now)
    db.session.flush()


def end_membership(
    membership: Membership, way: LeavingWay, on: date, now: datetime | None = None
) -> None:
    """An admin records an end that needs no notice: the cooperative ended the
    membership, or the member died. The membership ends on `on`, today at the latest.

    Refuses a membership that is not active, a day in the future, and a way that needs
    notice (`cancel`) or comes by itself (lapsing).
    """
    now = now or utcnow()
    if way not in (LeavingWay.ENDED_BY_COOPERATIVE, LeavingWay.DECEASED):
        raise Refused(_l("Please choose how the membership ended."), "way")
    if membership.status != MembershipStatus.ACTIVE:
        raise Refused(_l("Only an active membership can be ended."))
    if on > today(now):
        raise Refused(_l("The day it ended cannot be in the future."), "on")
    membership.leaving_way = way
    membership.leaves_on = on
    mark_shares_for_repayment(membership, now)
    _end(membership, on)


def _end(membership: Membership, on: date) -> None:
    membership.status = MembershipStatus.CANCELLED
    membership.left_at = datetime.combine(on, datetime.min.time(), local_zone())
    db.session.flush()


def end_after_notice(now: datetime | None = None) -> int:
    """The daily job's part: end each active membership whose notice has run out (its
    `leaves_on` has come). Returns how many ended."""
    rows = db.session.scalars(
        sa.select(Membership).where(
            Membership.status == MembershipStatus.ACTIVE,
            Membership.leaves_on.is_not(None),
            Membership.leaves_on <= today(now),
        )
    ).all()
    for membership in rows:
        _end(membership, membership.leaves_on)
    return len(rows)


def _acknowledge(membership: Membership) -> bool:
    """E-mail the acknowledgement; False when there is no account to e-mail."""
    user = membership.user
    if user is None:
        return False  # no account, no address: the admin sends the letter by post
    queue_mail(
        user.email,
        _l("We have received your cancellation"),
        "membership_cancellation",
        user.locale,
        attachments=[cancellation_letter(membership, user.locale)],
        user=user,
        membership=membership,
        account_url=external_url("account.index"),
    )
    return True


# --- the register as a list ----------------------------------------------------------

REGISTER_STATUSES = (
    MembershipStatus.ACTIVE,
    MembershipStatus.LAPSED,
    MembershipStatus.CANCELLED,
)


def register_query(search: str = "") -> sa.Select:
    """Every member who was ever admitted (a member number), by number; `search` finds
    a number, a name (a legal person's too), a street or a city."""
    query = sa.select(Membership).where(Membership.number.is_not(None))
    text = (search or "").strip().lower()
    if text:
        conditions = [
            sa.func.lower(Membership.registered_name).contains(text, autoescape=True),
            sa.func.lower(Membership.organisation_name).contains(text, autoescape=True),
            sa.func.lower(Membership.street).contains(text, autoescape=True),
            sa.func.lower(Membership.city).contains(text, autoescape=True),
            sa.func.lower(Membership.postcode).contains(text, autoescape=True),
        ]
        if text.isascii() and text.isdigit() and len(text) < 10:
            conditions.append(Membership.number == int(text))
        query = query.where(sa.or_(*conditions))
    return query.order_by(Membership.number)


def letter_list_query() -> sa.Select:
    """Active members who did not agree to official notices by e-mail: they get a letter
    (or have no account, so no address to e-mail)."""
    return (
        sa.select(Membership)
        .outerjoin(Membership.user)
        .where(
            Membership.status == MembershipStatus.ACTIVE,
            sa.or_(Membership.email_notices_consent_at.is_(None), User.id.is_(None)),
        )
        .order_by(Membership.postcode, Membership.number)
    )


def shares_held(memberships: list[Membership]) -> dict[int, int]:
    """How many shares each membership holds (by id), in one query: the register's
    shares column (shares not repaid)."""
    return share_totals.held_counts([membership.id for membership in memberships])


def leaving_way_label(way) -> str:
    """The way of leaving in words, in the reader's language."""
    labels = {
        LeavingWay.CANCELLED_BY_MEMBER: _l("cancelled by the member"),
        LeavingWay.ENDED_BY_COOPERATIVE: _l("ended by the cooperative"),
        LeavingWay.DECEASED: _l("deceased"),
        LeavingWay.LAPSED: _l("lapsed (fee not paid)"),
    }
    return str(labels[LeavingWay(way)]) if way else ""
