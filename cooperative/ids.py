"""A row's id written as text (in a URL, a form field, Stripe's metadata): the one way to
read it. Only ASCII digits count ("²" and "٣" are digits to `str.isdigit`, not to `int`),
and only what fits the database's integer columns, so a made-up id finds nothing (a 404)
rather than breaking the query (SQLite takes no integer over 2**63: a 500)."""

from werkzeug.routing import IntegerConverter

# The largest whole number a database INTEGER column holds (PostgreSQL's, 32 bits).
INTEGER_MAX = 2**31 - 1


def row_id(text: str | None) -> int | None:
    """The id `text` names, or None when it names none."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= INTEGER_MAX else None


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: an id as `row_id` reads one, from 1 to INTEGER_MAX, so
    another number in a URL matches no route (a 404) rather than reaching the database."""

    def __init__(self, map, fixed_digits=0, min=1, max=INTEGER_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
