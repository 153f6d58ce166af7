"""The share register's documents: a member's share certificate (Dutch or English) and
the capital overview for the annual report, made with `cooperative.pdf.Document`."""

from datetime import date, datetime

from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from ..i18n import local_zone
from ..models import Membership, Share, utcnow
from ..money import format_euros
from ..pdf import Document
from .share_totals import Totals
from .shares import holder_name

AUTHOR = "MeentCoop"
LANGUAGES = ("nl", "en")


def _day(moment: datetime | date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = moment.astimezone(local_zone()).date()
    return format_date(moment, "long")


def certificate(membership: Membership, shares: list[Share], locale: str) -> Document:
    """The certificate of the shares `membership` holds (not repaid), in `locale`: each
    share's number, class, amount and dates, and their total."""
    held = [share for share in shares if share.repaid_at is None]
    with force_locale(locale):
        document = Document(_("Share certificate"), author=AUTHOR)
        number = membership.number if membership.number is not None else "-"
        document.paragraph(
            _(
                "MeentCoop declares that %(name)s, member number %(number)s, holds the "
                "shares in the cooperative listed below.",
                name=holder_name(membership),
                number=number,
            )
        )
        document.table(
            [_("Share number"), _("Class"), _("Amount"), _("Issued on"), _("Paid on")],
            [
                [
                    share.number,
                    share.share_class.name(locale),
                    format_euros(share.amount_cents, locale),
                    _day(share.issued_at),
                    _day(share.paid_at) or _("not paid yet"),
                ]
                for share in held
            ],
        )
        paid = sum(share.amount_cents for share in held if share.paid_at is not None)
        document.paragraph(
            _(
                "Together: %(count)d shares, of which %(amount)s paid.",
                count=len(held),
                amount=format_euros(paid, locale),
            )
        )
        leaving = [share for share in held if share.repayment_due_on is not None]
        if leaving:
            document.paragraph(
                _(
                    "These shares are repaid after %(day)s.",
                    day=_day(leaving[0].repayment_due_on),
                )
            )
        document.paragraph(_("Made on %(day)s.", day=_day(utcnow())))
    return document


def overview(totals: Totals, locale: str) -> Document:
    """The capital overview for the annual report: per class and per year."""
    money = lambda cents: format_euros(cents, locale)  # noqa: E731
    with force_locale(locale):
        document = Document(_("Share capital on %(day)s", day=_day(utcnow())), author=AUTHOR)
        document.paragraph(
            _(
                "Capital (paid shares not repaid): %(capital)s. Still to be paid: "
                "%(unpaid)s. Members holding shares: %(members)d.",
                capital=money(totals.capital_cents),
                unpaid=money(totals.unpaid_cents),
                members=totals.member_count,
            )
        )
        document.heading(_("Per class"))
        document.table(
            [_("Class"), _("Issued"), _("Paid"), _("Unpaid"), _("Capital"), _("Members")],
            [
                [
                    row.share_class.name(locale),
                    row.issued,
                    f"{row.paid + row.to_repay} · {money(row.capital_cents)}",
                    f"{row.unpaid} · {money(row.unpaid_cents)}",
                    money(row.capital_cents),
                    row.member_count,
                ]
                for row in totals.classes
            ],
        )
        document.heading(_("Per year"))
        document.table(
            [_("Year"), _("Class"), _("Issued"), _("Repaid")],
            [
                [
                    row.year,
                    row.share_class.name(locale),
                    f"{row.issued} · {money(row.issued_cents)}",
                    f"{row.repaid} · {money(row.repaid_cents)}",
                ]
                for row in totals.years
            ],
        )
    return document
