"""The identifiers of SEPA direct debit, checked before they reach a bank: IBANs (with
schwifty), the creditor identifier, and the references we make (mandate, end-to-end).

No Flask here: config.py checks the creditor identifier with it at start-up.
"""

import re

CREDITOR_ID = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}")


class InvalidIdentifier(ValueError):
    """An IBAN or creditor identifier that cannot be right."""


def compact(value: str) -> str:
    """Without spaces, in capitals: how banks exchange identifiers."""
    return re.sub(r"\s+", "", value or "").upper()


def checked_iban(value: str) -> str:
    """`value` as a compact IBAN when its country, length, bank code and check digits are
    right (schwifty); raises InvalidIdentifier otherwise."""
    from schwifty import IBAN  # loaded when used: its bank registry costs memory
    from schwifty.exceptions import SchwiftyException

    try:
        return IBAN(compact(value)).compact
    except (SchwiftyException, ValueError) as error:
        raise InvalidIdentifier(str(error)) from error


def _mod97(text: str) -> int:
    return int("".join(str(int(char, 36)) for char in text)) % 97


def checked_creditor_id(value: str) -> str:
    """`value` as a compact SEPA creditor identifier (e.g. NL98ZZZ999999999999) when its
    shape and check digits are right; raises InvalidIdentifier otherwise.

    The check digits are the IBAN's (ISO 7064 mod 97-10) over the national identifier
    followed by the country code; the three characters of the business code are left out.
    """
    creditor_id = compact(value)
    if not CREDITOR_ID.fullmatch(creditor_id) or len(creditor_id) > 35:
        raise InvalidIdentifier(f"not shaped like a creditor identifier: {value!r}")
    country, digits, national = creditor_id[:2], creditor_id[2:4], creditor_id[7:]
    if _mod97(national + country + digits) != 1:
        raise InvalidIdentifier(f"wrong check digits: {value!r}")
    return creditor_id


def creditor_id_check_digits(country: str, national: str) -> str:
    """The two check digits of a creditor identifier (to make test and demo data)."""
    return f"{98 - _mod97(national.upper() + country.upper() + '00'):02d}"


def mandate_reference(membership_id: int, sequence: int) -> str:
    """Our reference of a member's `sequence`-th mandate: MEENT-000123-01."""
    return f"MEENT-{membership_id:06d}-{sequence:02d}"


def end_to_end_id(collection_id: int) -> str:
    """The reference a collection carries through the banks to the member's statement."""
    return f"MEENT-DUES-{collection_id:08d}"
