"""Helpers for the spreadsheets (CSV) organisers and admins download."""

# A cell starting with one of these is run as a formula by Excel and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """Text as a spreadsheet cell that shows what was typed and never runs it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
