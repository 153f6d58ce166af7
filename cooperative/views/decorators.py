"""Who may open a page, said once for every blueprint.

- `admin_required`: admins only.
- `board_required`: the board (`User.board_role`) and admins.
- `programme_required`: programme staff (`User.is_programme_staff`) and admins.
- `organiser_required`: people with a role in a collective, and admins (the back office).
- `managed_event`: one event's pages, for the organisers of its host collective and admins;
  the view gets the `Event` in place of `event_id` (404 when there is none).
- `organiser_of(event)`: the same rule as a question, for pages that show more to them.
- `programme_collaboration`, `contact_collaboration`: one collaboration's back-office
  pages (its page, commitments, progress, shared costs), for programme staff (and
  admins), and also for its parties' contacts; the view gets the `Collaboration` in place
  of `collaboration_id` (the rule: `services.partners`). Someone with no business with
  the collaboration gets 404, as for one that does not exist, so that no one can probe
  which collaborations there are; a party's contact on a page for staff gets 403.
- `door_event`, `at_the_door(event)`: the attendance pages (the list, check-in at the
  door): the event's organisers and admins, and the board (`User.is_board`) for the event
  of a general meeting, which they run without organising for a collective.

Whoever is not logged in is sent to the log-in page; everyone else who may not gets 403
(404 on a collaboration's pages, above).
The rule itself lives on the model (`User.manages_events`, `User.can_manage`).
"""

from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Collaboration, CollaborationParty, Commitment, Event, Organisation
from ..services import partners


def _only_if(may: str, view):
    """`view` for the logged-in people whose `User.<may>` is true; others get 403."""

    @wraps(view)
    @login_required
    def checked(*args, **kwargs):
        if not getattr(current_user, may):
            abort(403)
        return view(*args, **kwargs)

    return checked


def admin_required(view):
    """Only for admins: others get 403."""
    return _only_if("is_admin", view)


def board_required(view):
    """Only for the board and admins (the general meeting's back office): others get 403."""
    return _only_if("is_board", view)


def programme_required(view):
    """Only for programme staff and admins (collaborations with the city): others get 403."""
    return _only_if("runs_programme", view)


def organiser_required(view):
    """Only for people who organise for a collective, and admins: others get 403."""
    return _only_if("manages_events", view)


def organiser_of(event: Event) -> bool:
    """Whether the visitor (maybe not logged in) may manage `event`: an organiser of its
    host collective, or an admin."""
    return current_user.is_authenticated and current_user.can_manage(event.collective_id)


def _event_view(view, may, *options):
    """`view` given the event `event_id` (with its meals, host collective and `options`)
    in place of the id: 404 when there is none, 403 when `may(event)` is false."""

    @wraps(view)
    def checked(event_id: int, **kwargs):
        event = db.session.scalar(
            sa.select(Event)
            .where(Event.id == event_id)
            .options(
                sa.orm.selectinload(Event.meal_options),
                sa.orm.joinedload(Event.collective),
                *options,
            )
        )
        if event is None:
            abort(404)
        if not may(event):
            abort(403)
        return view(event, **kwargs)

    return checked


def managed_event(view):
    """Load the event `event_id` for a view that manages it: 404 when there is none,
    403 when the person may not manage it. The view gets `event` instead of the id."""
    return organiser_required(_event_view(view, organiser_of))


def at_the_door(event: Event) -> bool:
    """Whether the visitor (maybe not logged in) may open `event`'s attendance pages and
    check people in: its organisers and admins (`organiser_of`), and the board for the
    event of a general meeting."""
    if not current_user.is_authenticated:
        return False
    return organiser_of(event) or (current_user.is_board and event.meeting is not None)


def door_event(view):
    """Load the event `event_id` for an attendance page: 404 when there is none, 403 when
    the person may not be at its door (`at_the_door`). The view gets `event`."""
    # Whether it is a general meeting's event decides who may be at its door.
    return login_required(_event_view(view, at_the_door, sa.orm.joinedload(Event.meeting)))


def _collaboration_page(view, staff_only: bool, options):
    @wraps(view)
    @login_required
    def checked(collaboration_id: int, **kwargs):
        collaboration = db.session.scalar(
            sa.select(Collaboration)
            .where(Collaboration.id == collaboration_id)
            .options(
                sa.orm.selectinload(Collaboration.parties).options(
                    sa.orm.joinedload(CollaborationParty.organisation).options(
                        sa.orm.joinedload(Organisation.collective),
                        sa.orm.joinedload(Organisation.parent),
                    ),
                    sa.orm.joinedload(CollaborationParty.contact),
                ),
                sa.orm.selectinload(Collaboration.commitments).selectinload(Commitment.updates),
                sa.orm.selectinload(Collaboration.domains),
                *options,
            )
        )
        # No business with it: as if it did not exist.
        if collaboration is None or not partners.may_open_back_office(current_user, collaboration):
            abort(404)
        if staff_only and not current_user.runs_programme:
            abort(403)
        return view(collaboration, **kwargs)

    return checked


def programme_collaboration(view, *options):
    """Load the collaboration `collaboration_id` for a page of programme staff (and
    admins): 403 for its parties' contacts, 404 for anyone else and when there is none.
    The view gets `collaboration` (loaded as for `contact_collaboration`)."""
    return _collaboration_page(view, True, options)


def contact_collaboration(view, *options):
    """Load the collaboration `collaboration_id` for a page that programme staff and the
    contacts of its parties may open: 404 for anyone else and when there is none. The
    view gets `collaboration`, with its parties, commitments and progress loaded, and
    whatever loader `options` add (the costs' pages: the costs and their shares)."""
    return _collaboration_page(view, False, options)
