"""E-mails about the board's decisions on shares: a purchase approved or refused (with
the reason), and a transfer approved or refused (to both members). Through the outbox,
each in the member's own language; nothing for a register entry without an account
(the admin writes a letter)."""

from flask_babel import lazy_gettext as _l

from ..models import Membership, PurchaseStatus, SharePurchase, ShareTransfer, TransferStatus
from . import shares
from .mail import external_url, queue_member_mail

SUBJECTS = {
    ("purchase", True): lambda: _l("Your shares are issued"),
    ("purchase", False): lambda: _l("About your request for shares"),
    ("transfer", True): lambda: _l("A transfer of a share is approved"),
    ("transfer", False): lambda: _l("A transfer of a share is not approved"),
}


def _mail(membership: Membership, template: str, approved: bool, **context) -> None:
    kind = template.removeprefix("share_").removesuffix("_decided")
    queue_member_mail(
        membership,
        SUBJECTS[kind, approved](),
        template,
        approved=approved,
        shares_url=external_url("shares.index"),
        **context,
    )


def purchase_decided(purchase: SharePurchase) -> None:
    """Tell the member the board approved their purchase (the share numbers and what to
    pay) or refused it (the reason)."""
    _mail(
        purchase.membership,
        "share_purchase_decided",
        purchase.status == PurchaseStatus.ISSUED,
        purchase=purchase,
    )


def transfer_decided(transfer: ShareTransfer) -> None:
    """Tell both members what the board decided about moving the share."""
    approved = transfer.status == TransferStatus.APPROVED
    for membership, giving in ((transfer.from_membership, True), (transfer.to_membership, False)):
        _mail(
            membership,
            "share_transfer_decided",
            approved,
            transfer=transfer,
            giving=giving,
            from_name=shares.holder_name(transfer.from_membership),
            to_name=shares.holder_name(transfer.to_membership),
        )
