"""The world of the announcement tests: an area, two collectives with an organiser each,
an admin, members who did and did not ask for news, and an event of the first collective
with people registered."""

from types import SimpleNamespace

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Collective, OutboxMessage, User
from tests.factories import (
    make_admin,
    make_collective,
    make_domain,
    make_event,
    make_member,
    make_organiser,
    make_registration,
)


def make_reader(email: str, *, news: bool, domains=(), follows=(), confirmed: bool = True):
    """A member whose profile chose `domains` and follows `follows`, news on or off."""
    user = make_member(email, interests=list(domains))
    user.profile.newsletter = news
    user.profile.followed_collectives = list(follows)
    if not confirmed:
        user.email_confirmed_at = None
    db.session.commit()
    return user


def build_news_world(app) -> SimpleNamespace:
    """Saved, in its own app context; ids returned."""
    with app.app_context():
        energy = make_domain()
        zonnedak = make_collective("zonnedak", "Zonnedak", domain=energy)
        voedselbank = make_collective("voedselbank", "Voedselbank", domain=energy)
        organiser_a = make_organiser(zonnedak, email="organiser.a@example.org")
        organiser_b = make_organiser(voedselbank, email="organiser.b@example.org")
        admin = make_admin()
        reader = make_reader("reader@example.org", news=True, domains=[energy], follows=[zonnedak])
        quiet = make_reader("quiet@example.org", news=False, domains=[energy], follows=[zonnedak])
        unconfirmed = make_reader(
            "unconfirmed@example.org",
            news=True,
            domains=[energy],
            follows=[zonnedak],
            confirmed=False,
        )
        follower_b = make_reader("follower.b@example.org", news=True, follows=[voedselbank])
        event = make_event(collective_id=zonnedak.id)
        make_registration(event, ["Ada"], email="ada@example.org")
        make_registration(event, ["Bob"], email="bob@example.org", locale="en")
        # Their confirmations are not what these tests look at.
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()
        return SimpleNamespace(
            energy=energy.id,
            zonnedak=zonnedak.id,
            voedselbank=voedselbank.id,
            organiser_a=organiser_a.id,
            organiser_b=organiser_b.id,
            admin=admin.id,
            reader=reader.id,
            quiet=quiet.id,
            unconfirmed=unconfirmed.id,
            follower_b=follower_b.id,
            event=event.id,
        )


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def collective(collective_id: int) -> Collective:
    return db.session.get(Collective, collective_id)
