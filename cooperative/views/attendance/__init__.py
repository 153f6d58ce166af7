"""At the door: the attendance list of an event, check-in, door payments, walk-ins,
exports and messages, at `/manage/events/<id>/...`.

Each module registers its pages on `bp`: `door` (the list, check-in, money,
refunds) and `desk` (walk-ins, codes, messages, exports).

Who may check in is the one rule of `decorators.door_event`: the event's organisers and
admins, and the board at a general meeting's event (the ticket asks
`decorators.at_the_door` to show them its check-in part).
Every action is a POST with the CSRF token. With htmx, an action on a party answers with
that party's row (it replaces itself) and the `checkin-changed` event, so the counters
follow; without JavaScript it redirects (303) back to the list with its filters kept.
The list and the counters also poll, so two volunteers on two phones see each other's
check-ins.
"""

from . import desk, door
from .blueprint import CHECKIN_CHANGED, LIST_ID, bp

__all__ = ["CHECKIN_CHANGED", "LIST_ID", "bp", "desk", "door"]
