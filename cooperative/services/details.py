"""Copy what a form gave a service (a details dataclass) onto the row it changes, a
new one (added to the session) when there is none yet."""

from ..extensions import db


def row_to_change(model, row):
    """`row`, or a new `model` added to the session when `row` is None."""
    if row is None:
        row = model()
        db.session.add(row)
    return row


def copy_details(row, details, names, convert=None) -> None:
    """Set each attribute in `names` of `row` to the one of that name in `details`,
    passed through `convert` when one is given."""
    for name in names:
        value = getattr(details, name)
        setattr(row, name, value if convert is None else convert(value))
