"""The letters of the member register as PDF attachments: the written admission (member
number and day of admission) and the acknowledgement of a cancellation (the day it was
received and the day the membership ends). Each in the member's own language."""

import base64

from flask_babel import force_locale
from flask_babel import gettext as _

from ..i18n import long_date
from ..models import Membership
from ..pdf import Document


def _attachment(document: Document, filename: str) -> dict:
    return {
        "filename": filename,
        "content_type": "application/pdf",
        "encoding": "base64",
        "content": base64.b64encode(document.bytes()).decode("ascii"),
    }


def _address_lines(membership: Membership) -> str:
    lines = [
        membership.registered_name,
        f"{membership.street} {membership.house_number}".strip(),
        f"{membership.postcode}  {membership.city}".strip(),
    ]
    if membership.country and membership.country != "NL":
        lines.append(membership.country)
    return "\n".join(line for line in lines if line)


def _letter_to(membership: Membership, title: str) -> Document:
    """A letter from the cooperative: `title`, the member's name and address, the
    greeting. Made inside the reader's locale."""
    document = Document(title, author="MeentCoop")
    document.paragraph(_address_lines(membership))
    document.paragraph(_("Dear %(name)s,", name=membership.registered_name))
    return document


def admission_letter(membership: Membership, locale: str) -> dict:
    """The letter of admission as an outbox attachment (a PDF)."""
    with force_locale(locale):
        document = _letter_to(membership, _("Admission as a member of MeentCoop"))
        document.paragraph(
            _(
                "The cooperative MeentCoop admits you as a member from %(date)s. "
                "Your member number is %(number)s.",
                date=long_date(membership.admitted_on),
                number=membership.number,
            )
        )
        document.table(
            [_("Member number"), _("Date of admission")],
            [[membership.number, long_date(membership.admitted_on)]],
        )
        document.paragraph(
            _("You are entered in the member register with the name and address above.")
        )
        document.paragraph(_("Kind regards,\nThe board of MeentCoop"))
        return _attachment(document, f"admission-{membership.number}.pdf")


def cancellation_letter(membership: Membership, locale: str) -> dict:
    """The acknowledgement of a cancellation as an outbox attachment (a PDF)."""
    with force_locale(locale):
        document = _letter_to(membership, _("Your cancellation of membership"))
        document.paragraph(
            _(
                "We received your cancellation of your membership (member number "
                "%(number)s) on %(received)s. Your membership ends on %(end)s.",
                number=membership.number,
                received=long_date(membership.cancellation_received_on),
                end=long_date(membership.leaves_on),
            )
        )
        document.table(
            [_("Member number"), _("Cancellation received"), _("Membership ends")],
            [
                [
                    membership.number,
                    long_date(membership.cancellation_received_on),
                    long_date(membership.leaves_on),
                ]
            ],
        )
        document.paragraph(_("Kind regards,\nThe board of MeentCoop"))
        return _attachment(document, f"cancellation-{membership.number}.pdf")
