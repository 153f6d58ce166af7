"""The bank route of the dues: one pain.008 collection file per dues run, made with
`sepaxml` and validated against the ISO 20022 schema that sepaxml ships.

The file holds the run's collections under the cooperative's own mandates (dues, and the
one-off debits of joining and shares, `services.debits`) that may still go out
(`dues.still_owed`); the others are cancelled, not sent. Making it marks them submitted
and keeps the file in the run: the admin downloads it as often as needed and
gives it to the bank, which debits on the run's debit date. Stripe's mandates are
debited through Stripe instead (`sepa_stripe`).
"""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sepaxml import SepaDD

from ..extensions import db
from ..models import CollectionPurpose, CollectionRun, CollectionStatus, MandateKind, utcnow
from ..refusals import Refused
from ..sepa_ids import compact
from . import dues, sepa

# pain.008.001.08 takes a file without BICs (IBAN-only, as in the Netherlands since 2016);
# pain.008.001.02 (which sepaxml wants a creditor BIC for) when a BIC is set.
SCHEMA_WITHOUT_BIC = "pain.008.001.08"
SCHEMA_WITH_BIC = "pain.008.001.02"


def make_file(run: CollectionRun, now: datetime | None = None) -> int:
    """Make the run's collection file, mark its collections submitted and keep the file;
    returns how many collections it holds.

    Refuses when the creditor identifier or the cooperative's IBAN is not set, when the
    file was made already, once the debit date has come (the bank needs it before), and
    when no collection is left to send.
    """
    now = now or utcnow()
    creditor = sepa.creditor()
    if not creditor.creditor_id or not creditor.iban:
        raise Refused(_l("Set SEPA_CREDITOR_ID and BANK_IBAN to make a collection file."))
    if run.file_xml is not None:
        raise Refused(_l("The file of this run was made already."))
    if sepa.local_today(now) >= run.debit_date:
        raise Refused(_l("The debit date has come: the bank needs the file before it."))
    sending = []
    for collection in dues.collections_of(run):
        if (
            collection.status != CollectionStatus.SCHEDULED
            or collection.mandate.kind != MandateKind.OWN
        ):
            continue
        if dues.still_owed(collection):
            sending.append(collection)
        else:
            dues.cancel(collection, "not owed any more, or the mandate ended")
    if not sending:
        db.session.flush()
        raise Refused(_l("No collection in this run is left to send to the bank."))
    xml, run.message_id = render(run, sending, creditor)
    run.file_xml = xml.decode()
    run.file_made_at = now
    for collection in sending:
        collection.status = CollectionStatus.SUBMITTED
        collection.submitted_at = now
    db.session.flush()
    return len(sending)


def render(run: CollectionRun, collections, creditor: sepa.Creditor) -> tuple[bytes, str]:
    """The pain.008 XML of `collections` and its message id (made by sepaxml from the
    time and a random part). Validated against its schema by sepaxml, which raises
    sepaxml.validation.ValidationError for a file the schema refuses."""
    config = {
        "name": creditor.name,
        "IBAN": compact(creditor.iban),
        "batch": True,
        "creditor_id": creditor.creditor_id,
        "currency": "EUR",
    }
    schema = SCHEMA_WITHOUT_BIC
    if creditor.bic:
        config["BIC"] = creditor.bic
        schema = SCHEMA_WITH_BIC
    document = SepaDD(config, schema=schema, clean=True)
    for collection in collections:
        mandate = collection.mandate
        membership = collection.membership
        document.add_payment(
            {
                "name": mandate.account_holder,
                "IBAN": mandate.iban,
                "amount": collection.amount_cents,
                "type": collection.sequence_type,
                "collection_date": run.debit_date,
                "mandate_id": mandate.reference,
                "mandate_date": mandate.signed_on,
                "description": description(membership.number, run.debit_date, collection.purpose),
                "endtoend_id": collection.end_to_end_id,
            }
        )
    return document.export(validate=True), document.msg_id


def description(
    member_number: int | None, debit_date: date, purpose: str = CollectionPurpose.DUES
) -> str:
    """What the member reads on their statement (dues, joining, or shares)."""
    number = f" lid {member_number}" if member_number else ""
    if purpose == CollectionPurpose.JOIN:
        return "Lidmaatschap en ledenaandeel MeentCoop"
    if purpose == CollectionPurpose.SHARES:
        return f"Aandelen MeentCoop{number}"
    return f"Contributie MeentCoop {debit_date.year}{number}"
