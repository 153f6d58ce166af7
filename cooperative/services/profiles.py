"""Members' profiles: who may see one, finding them for the directory, and saving one.

Who sees a profile is its owner's choice, checked here in one place (`visible_profiles`):
`hidden` appears nowhere; `members` only to active members; `public` also has a page for
everyone. Only profiles of active members are shown to others at all; the owner sees their
own page unless it is hidden. Services flush; the caller commits.
"""

import sqlalchemy as sa

from ..extensions import db
from ..models import Collective, Domain, Membership, MembershipStatus, Profile, User, Visibility
from . import membership as memberships

TEXT_FIELDS = ("display_name", "neighbourhood", "bio", "offer")
DIRECTORY_SIZE = 50


def visible_profiles(viewer) -> sa.Select:
    """Profiles `viewer` (maybe anonymous) may see: active members' public profiles, and
    their members-only profiles when the viewer is an active member."""
    allowed = [Visibility.PUBLIC]
    if memberships.is_active_member(viewer):
        allowed.append(Visibility.MEMBERS)
    active = (
        sa.select(Membership.id)
        .where(Membership.user_id == Profile.user_id, Membership.status == MembershipStatus.ACTIVE)
        .exists()
    )
    return sa.select(Profile).where(Profile.visibility.in_(allowed), active)


def profile_to_show(viewer, user_id: int) -> Profile | None:
    """The profile of the person `user_id` when `viewer` may see it (`visible_profiles`),
    or their own profile unless it is hidden; else None."""
    profile = db.session.scalar(
        visible_profiles(viewer)
        .where(Profile.user_id == user_id)
        .options(sa.orm.selectinload(Profile.interests))
    )
    if profile is None and getattr(viewer, "is_authenticated", False) and viewer.id == user_id:
        profile = db.session.get(Profile, user_id)
        if profile is not None and profile.visibility == Visibility.HIDDEN:
            profile = None
    return profile


def directory(viewer, neighbourhood: str = "", interest: str = "") -> list[Profile]:
    """The first `DIRECTORY_SIZE` profiles `viewer` may see, by name, in `neighbourhood`
    (any case) and interested in the domain with the slug `interest`, when given."""
    query = visible_profiles(viewer)
    if neighbourhood:
        query = query.where(sa.func.lower(Profile.neighbourhood) == neighbourhood.lower())
    if interest:
        query = query.where(Profile.interests.any(Domain.slug == interest))
    return list(
        db.session.scalars(
            query.options(sa.orm.selectinload(Profile.interests))
            .order_by(sa.func.lower(Profile.display_name), Profile.user_id)
            .limit(DIRECTORY_SIZE)
        )
    )


def neighbourhoods(viewer) -> list[str]:
    """The neighbourhoods named in the profiles `viewer` may see, alphabetically."""
    return list(
        db.session.scalars(
            visible_profiles(viewer)
            .with_only_columns(Profile.neighbourhood)
            .where(Profile.neighbourhood != "")
            .distinct()
            .order_by(Profile.neighbourhood)
        )
    )


def followable_collectives() -> sa.Select:
    """The collectives a member may follow: the published ones, by name."""
    return (
        sa.select(Collective)
        .where(Collective.is_published.is_(True))
        .order_by(sa.func.lower(Collective.name), Collective.id)
    )


def save_profile(user: User, **changes) -> Profile:
    """Write the profile fields given in `changes` (the others stay as they are), making
    the profile first if `user` has none (hidden, no newsletter).

    Fields: `display_name`, `neighbourhood`, `bio`, `offer` (text; None is empty),
    `visibility` (a `Visibility` or its value), `newsletter` (yes or no), `interests`
    (domain ids; an id no domain has is left out) and `collectives` (the ids of published
    collectives to follow; others are left out). Refuses (TypeError) any other name.
    """
    unknown = set(changes) - {*TEXT_FIELDS, "visibility", "newsletter", "interests", "collectives"}
    if unknown:
        raise TypeError(f"no profile field called {', '.join(sorted(unknown))}")
    profile = memberships.ensure_profile(user)
    for name in TEXT_FIELDS:
        if name in changes:
            setattr(profile, name, changes[name] or "")
    if "visibility" in changes:
        profile.visibility = Visibility(changes["visibility"])
    if "newsletter" in changes:
        profile.newsletter = bool(changes["newsletter"])
    if "interests" in changes:
        chosen = set(changes["interests"] or ())
        profile.interests = (
            list(db.session.scalars(sa.select(Domain).where(Domain.id.in_(chosen))))
            if chosen
            else []
        )
    if "collectives" in changes:
        chosen = set(changes["collectives"] or ())
        profile.followed_collectives = (
            list(db.session.scalars(followable_collectives().where(Collective.id.in_(chosen))))
            if chosen
            else []
        )
    db.session.flush()
    return profile
