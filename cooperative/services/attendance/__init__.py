"""At the door: the attendance list, its counters and kitchen summary, check-in and undo,
door payments, walk-ins, and messages from the organisers to the parties; a module for each.

Check-in and undo are single conditional UPDATEs, so a double tap is harmless. Door
payments and walk-ins lock the event (`lock_event`) and count afresh inside the
transaction, like registrations do. The list and the counters run a fixed number of
queries however many people come. The caller commits; these functions only flush.

Who checked someone in and when is kept on the attendee, and every check-in and undo also
as a `CheckInRecord` (the door's trail); who took a door payment is kept on the payment.
"""

from .check_in import (
    DoorChange,
    check_in,
    check_in_party,
    undo_check_in,
    undo_party,
)
from .door import record_door_payment
from .filters import PAGE_SIZE, SHOW_CHOICES, AttendanceFilters
from .lists import (
    PartyPage,
    PartyRow,
    PersonRow,
    page_of,
    party_page,
    party_row,
    party_rows,
    people,
)
from .messages import AUDIENCES, recipients, send_message
from .summary import MealCount, Summary, summary
from .tickets import find_ticket, parse_ticket, short_code
from .walk_ins import WalkIn, add_walk_in

__all__ = [
    "AUDIENCES",
    "PAGE_SIZE",
    "SHOW_CHOICES",
    "AttendanceFilters",
    "DoorChange",
    "MealCount",
    "PartyPage",
    "PartyRow",
    "PersonRow",
    "Summary",
    "WalkIn",
    "add_walk_in",
    "check_in",
    "check_in_party",
    "find_ticket",
    "page_of",
    "parse_ticket",
    "party_page",
    "party_row",
    "party_rows",
    "people",
    "recipients",
    "record_door_payment",
    "send_message",
    "short_code",
    "summary",
    "undo_check_in",
    "undo_party",
]
