"""The spreadsheets (CSV files) organisers and admins download, all made one way.

Headers in the reader's language; UTF-8 with a byte order mark, so Excel reads the
accents; in Dutch `;` between columns and a decimal comma (as Dutch Excel expects), in
English `,` and a decimal point; lines end in CRLF. No cell runs as a formula.
"""

import csv
import io
from collections.abc import Iterable

from flask import Response

from .i18n import current_locale

# A cell starting with one of these is run as a formula by Excel and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BYTE_ORDER_MARK = "\ufeff"


def csv_safe(text: str) -> str:
    """Text as a spreadsheet cell that shows what was typed and never runs it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _dutch() -> bool:
    return current_locale() == "nl"


def _cell(value) -> str:
    if value is None:
        return ""
    return csv_safe(value) if isinstance(value, str) else str(value)


def csv_response(filename: str, headers: list[str], rows: Iterable[Iterable]) -> Response:
    """A CSV download named `filename`: `headers` (in the reader's language) then `rows`.

    Text cells are made safe (`csv_safe`), None is an empty cell; give amounts as
    `money.format_amount(cents)`, so they follow the language's decimal mark.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if _dutch() else ",", lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return Response(
        BYTE_ORDER_MARK + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
