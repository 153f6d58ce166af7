"""The bank's collection file (pain.008): validated against the ISO 20022 schema that
sepaxml ships, and holding what the bank needs: creditor, debit date, each member's
IBAN, amount, mandate reference and date, end-to-end id; made once per run."""

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sepaxml
import xmlschema

from cooperative.extensions import db
from cooperative.models import CollectionStatus, utcnow
from cooperative.refusals import Refused
from cooperative.services import dues, sepa, sepa_file
from tests import sepa_fixtures
from tests.sepa_fixtures import (
    CREDITOR_ID,
    MEMBER_IBAN,
    debit_day,
    due_member,
    with_mandate,
    yearly_member,
)

SCHEMAS = Path(sepaxml.__file__).parent / "schemas"

creditor = sepa_fixtures.creditor


def validate(xml: str, schema: str) -> ET.Element:
    """Validate against sepaxml's copy of the schema; return the parsed document."""
    xmlschema.XMLSchema(str(SCHEMAS / f"{schema}.xsd")).validate(xml)
    return ET.fromstring(xml.encode())  # noqa: S314 - our own file, just made


def texts(root: ET.Element, schema: str, tag: str) -> list[str]:
    namespace = f"urn:iso:std:iso:20022:tech:xsd:{schema}"
    return [element.text for element in root.iter(f"{{{namespace}}}{tag}")]


def test_the_file_is_valid_pain_008_and_holds_each_collection(app, creditor):
    with app.app_context():
        now = utcnow()
        day = debit_day(now)
        ada = due_member("ada@example.org", day)
        bob = yearly_member("bob@example.org", sepa.start_of(day))
        with_mandate(bob, iban="DE89 3704 0044 0532 0130 00")
        run = dues.run_dues(day, now=now)
        db.session.commit()
        assert sepa_file.make_file(run, now) == 2
        db.session.commit()
        root = validate(run.file_xml, "pain.008.001.08")
        schema = "pain.008.001.08"
        assert texts(root, schema, "MsgId") == [run.message_id]
        assert texts(root, schema, "NbOfTxs")[0] == "2"
        assert texts(root, schema, "CtrlSum")[0] == "50.00"
        assert texts(root, schema, "ReqdColltnDt") == [day.isoformat()]
        assert CREDITOR_ID in texts(root, schema, "Id")
        ibans = texts(root, schema, "IBAN")
        assert "NL91ABNA0417164300" in ibans  # the cooperative's account
        assert MEMBER_IBAN in ibans and "DE89370400440532013000" in ibans
        mandate = sepa.active_mandate(ada)
        assert mandate.reference in texts(root, schema, "MndtId")
        assert mandate.signed_on.isoformat() in texts(root, schema, "DtOfSgntr")
        assert sorted(texts(root, schema, "EndToEndId")) == sorted(
            c.end_to_end_id for c in run.collections
        )
        assert texts(root, schema, "SeqTp") == ["FRST"]
        assert {c.status for c in run.collections} == {CollectionStatus.SUBMITTED}
        assert run.file_made_at == now
        with pytest.raises(Refused):
            sepa_file.make_file(run, now)  # once


def test_with_a_creditor_bic_the_file_is_valid_pain_008_001_02(app, creditor, monkeypatch):
    monkeypatch.setitem(app.config, "SEPA_CREDITOR_BIC", "ABNANL2A")
    with app.app_context():
        now = utcnow()
        due_member("ada@example.org", debit_day(now))
        run = dues.run_dues(debit_day(now), now=now)
        sepa_file.make_file(run, now)
        root = validate(run.file_xml, "pain.008.001.02")
        assert "ABNANL2A" in texts(root, "pain.008.001.02", "BIC")


def test_no_file_on_or_after_the_debit_date_nor_without_a_creditor(app, creditor, monkeypatch):
    with app.app_context():
        now = utcnow()
        due_member("ada@example.org", debit_day(now))
        run = dues.run_dues(debit_day(now), now=now)
        db.session.commit()
        with pytest.raises(Refused):
            sepa_file.make_file(run, sepa.start_of(run.debit_date))
        monkeypatch.setitem(app.config, "SEPA_CREDITOR_ID", "")
        with pytest.raises(Refused):
            sepa_file.make_file(run, now)
        assert run.file_xml is None
