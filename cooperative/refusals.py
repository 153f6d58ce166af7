"""The one exception a service raises when a rule refuses what was asked.

A service says why in the person's own words and, where it is about one input, names the
form field (`slug`, `people-0-meal`, `meals-1-price`); the view shows it with
`forms.fields.show_refusal`, or flashes `str(refusal)` where there is no form.
"""


class Refused(Exception):
    """A rule refuses the request. `message` says why (a lazy string is fine: it is
    translated when shown); `field` names the form field it is about, or is None (or a
    name no form has, such as `event`) for the request as a whole."""

    def __init__(self, message, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)
