"""Copy what a form gave a service (a details dataclass) onto the row it changes."""


def copy_details(row, details, names, convert=None) -> None:
    """Set each attribute in `names` of `row` to the one of that name in `details`,
    passed through `convert` when one is given."""
    for name in names:
        value = getattr(details, name)
        setattr(row, name, value if convert is None else convert(value))
