"""A row's id written as text (in a URL, a form field, Stripe's metadata): the one way to
read it. Only ASCII digits count ("²" and "٣" are digits to `str.isdigit`, not to `int`),
and only what fits the database's integer columns, so a made-up id finds nothing rather
than breaking the query."""

# The largest value of an INTEGER column on PostgreSQL (and of SQLite's, well inside).
LARGEST = 2**31 - 1


def row_id(text: str | None) -> int | None:
    """The id `text` names, or None when it names none."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= LARGEST else None
