"""Moving an existing member register onto the site: a CSV file of members, checked
whole before anything is written (a dry run lists every row it would refuse and why),
then imported in one go, or not at all.

The columns (the header row names them, in any order; `;` or `,` between them, UTF-8):

| column          | required | what                                                      |
| --------------- | -------- | --------------------------------------------------------- |
| member_number   | yes      | a whole number, unique                                    |
| name            | yes      | the full name as registered                               |
| street          | yes      |                                                           |
| house_number    | yes      |                                                           |
| postcode        | yes      | "1234 AB" in the Netherlands (normalised), free elsewhere  |
| city            | yes      |                                                           |
| country         | no       | two-letter code, NL when empty                            |
| admitted_on     | yes      | day of admission, 2019-03-01 or 01-03-2019                |
| plan            | yes      | the short name (slug) of a membership plan                |
| email           | no       | makes (or links) an account; unique                       |
| email_notices   | no       | yes/ja/1: official notices by e-mail (needs an e-mail)    |
| language        | no       | nl or en (nl when empty)                                  |

Each imported member is active, with their own number and day of admission; no welcome
e-mail is sent (they are members already). An e-mail address makes an account the person
can log in to after choosing a password ("forgot password"); an address whose account
exists already is linked, unless that account is a member or applying already.
"""

import csv
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import local_zone
from ..ids import row_id
from ..models import (
    Membership,
    MembershipPlan,
    MembershipStatus,
    PlanPeriod,
    User,
    normalise_email,
    utcnow,
)
from ..refusals import Refused
from . import register

REQUIRED = ("member_number", "name", "street", "house_number", "postcode", "city")
REQUIRED += ("admitted_on", "plan")
OPTIONAL = ("country", "email", "email_notices", "language")
YES = {"yes", "ja", "y", "j", "1", "true", "waar"}
NO = {"no", "nee", "n", "0", "false", "onwaar", ""}


@dataclass
class ImportReport:
    """What an import found: the rows read, each refusal (line number and why), and how
    many members were imported (0 on a dry run or when anything was refused)."""

    rows: int = 0
    refusals: list[tuple[int, str]] = field(default_factory=list)
    imported: int = 0

    @property
    def ok(self) -> bool:
        return not self.refusals


@dataclass
class _Row:
    line: int
    number: int
    address: register.Address
    admitted_on: date
    plan: MembershipPlan
    email: str
    email_notices: bool
    language: str


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(_l("The file is not UTF-8 text: save it as CSV UTF-8."), "file") from None


def _day(value: str) -> date:
    value = value.strip()
    for pattern, order in (
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"),
        (r"(\d{1,2})-(\d{1,2})-(\d{4})", "dmy"),
    ):
        match = re.fullmatch(pattern, value.replace("/", "-"))
        if match:
            parts = dict(zip(order, (int(part) for part in match.groups()), strict=True))
            return date(parts["y"], parts["m"], parts["d"])
    raise ValueError(value)


def read_members(data: bytes, now: datetime | None = None) -> tuple[ImportReport, list[_Row]]:
    """Read and check every row of a CSV file; refuse nothing on the way, but list each
    row's first fault in the report. Refuses (raises) a file that is not UTF-8 text, or
    whose header misses a required column."""
    now = now or utcnow()
    text = _text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    headers = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in headers]
    if missing:
        raise Refused(
            _l("The header row misses these columns: %(columns)s.", columns=", ".join(missing)),
            "file",
        )
    reader.fieldnames = headers
    plans = {plan.slug: plan for plan in db.session.scalars(sa.select(MembershipPlan))}
    taken_numbers = set(
        db.session.scalars(sa.select(Membership.number).where(Membership.number.is_not(None)))
    )
    report = ImportReport()
    rows: list[_Row] = []
    numbers: set[int] = set()
    emails: set[str] = set()
    for values in reader:
        line = reader.line_num
        report.rows += 1
        cells = {key: (value or "").strip() for key, value in values.items() if key}
        try:
            row = _check_row(line, cells, plans, now)
            if row.number in taken_numbers or row.number in numbers:
                raise Refused(_l("Member number %(number)s is used twice.", number=row.number))
            if row.email and row.email in emails:
                raise Refused(_l("The e-mail address %(email)s is used twice.", email=row.email))
        except Refused as refusal:
            report.refusals.append((line, str(refusal.message)))
            continue
        numbers.add(row.number)
        if row.email:
            emails.add(row.email)
        rows.append(row)
    # One query for every address: those whose account is a member, or applying, already.
    members = set(
        db.session.scalars(
            sa.select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(User.email.in_(emails))
        )
    )
    for row in [row for row in rows if row.email in members]:
        message = _l("%(email)s has a membership already.", email=row.email)
        report.refusals.append((row.line, str(message)))
        rows.remove(row)
    report.refusals.sort()
    if report.rows == 0:
        report.refusals.append((1, str(_l("The file has no members under its header row."))))
    return report, rows


def _check_row(line: int, cells: dict, plans: dict, now: datetime) -> _Row:
    for name in REQUIRED:
        if not cells.get(name):
            raise Refused(_l("The column %(column)s is empty.", column=name))
    number = row_id(cells["member_number"])
    if number is None:
        raise Refused(
            _l("The member number %(value)s is not a whole number.", value=cells["member_number"])
        )
    address = register.checked_address(
        register.Address(
            cells["name"],
            cells["street"],
            cells["house_number"],
            cells["postcode"],
            cells["city"],
            cells.get("country") or "NL",
        )
    )
    try:
        admitted_on = _day(cells["admitted_on"])
    except ValueError:
        raise Refused(
            _l("The date %(value)s is not a date like 2019-03-01.", value=cells["admitted_on"])
        ) from None
    if admitted_on > register.today(now):
        raise Refused(_l("The day of admission %(value)s is in the future.", value=admitted_on))
    plan = plans.get(cells["plan"])
    if plan is None:
        raise Refused(_l("There is no plan %(plan)s.", plan=cells["plan"]))
    email = cells.get("email", "")
    if email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            raise Refused(_l("%(email)s is not an e-mail address.", email=email)) from None
        email = normalise_email(email)
    notices = cells.get("email_notices", "").lower()
    if notices not in YES | NO:
        raise Refused(_l("email_notices is yes or no, not %(value)s.", value=notices))
    if notices in YES and not email:
        raise Refused(_l("Official notices by e-mail need an e-mail address."))
    language = cells.get("language", "").lower() or "nl"
    if language not in ("nl", "en"):
        raise Refused(_l("The language is nl or en, not %(value)s.", value=language))
    return _Row(line, number, address, admitted_on, plan, email, notices in YES, language)


def import_members(data: bytes, dry_run: bool = False, now: datetime | None = None) -> ImportReport:
    """Check the whole file, then (not on a dry run, and only when no row is refused)
    add every member. Flushes; the caller commits, so it is all or nothing."""
    now = now or utcnow()
    report, rows = read_members(data, now)
    if dry_run or not report.ok:
        return report
    accounts = {
        user.email: user
        for user in db.session.scalars(
            sa.select(User).where(User.email.in_([row.email for row in rows if row.email]))
        )
    }
    for row in rows:
        user = None
        if row.email:
            user = accounts.get(row.email)
            if user is None:
                user = User(email=row.email, name=row.address.registered_name, locale=row.language)
                # Nobody knows this password: the member chooses one ("forgot password").
                user.set_password(secrets.token_urlsafe(32))
                db.session.add(user)
        started = datetime.combine(row.admitted_on, datetime.min.time(), local_zone())
        membership = Membership(
            user=user,
            plan=row.plan,
            number=row.number,
            status=MembershipStatus.ACTIVE,
            started_at=started,
            ends_at=_next_anniversary(started, now)
            if row.plan.period == PlanPeriod.YEARLY
            else None,
            admitted_on=row.admitted_on,
            decision_note="",
        )
        db.session.add(membership)
        register.save_address(membership, row.address)
        if row.email_notices:
            register.set_email_notices(membership, True, now)
        report.imported += 1
    db.session.flush()
    return report


def _next_anniversary(started: datetime, now: datetime) -> datetime:
    """The first anniversary of `started` after `now`: when a yearly fee falls due."""
    end = started
    while end <= now:
        end += timedelta(days=365)
    return end
