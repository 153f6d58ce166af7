"""The refusal of an action at the door."""


class AttendanceRefused(Exception):
    """A rule refuses the action. `field` names the form field it is about (`event` for
    the event or party as a whole)."""

    def __init__(self, message, field: str = "event") -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
