"""The profile rules on the service itself (`services.profiles`): who sees which profile,
and what saving writes. The pages are tested in test_membership_privacy.py."""

import pytest
from flask_login import AnonymousUserMixin

from cooperative.extensions import db
from cooperative.models import Visibility
from cooperative.services import profiles
from tests.factories import make_domain, make_member, make_plan, make_user


def test_who_sees_which_profile(app):
    with app.app_context():
        make_plan()
        viewer = make_member("viewer@example.org")
        public = make_member("public@example.org", visibility="public")
        members = make_member("members@example.org", visibility="members", neighbourhood="Oost")
        hidden = make_member("hidden@example.org", visibility="hidden")
        outsider = make_user("outsider@example.org")
        anonymous = AnonymousUserMixin()

        def seen_by(person):
            return {
                owner.email
                for owner in (public, members, hidden)
                if profiles.profile_to_show(person, owner.id) is not None
            }

        assert seen_by(anonymous) == seen_by(outsider) == {"public@example.org"}
        assert seen_by(viewer) == {"public@example.org", "members@example.org"}
        # The owner sees their own page, unless it is hidden.
        assert profiles.profile_to_show(hidden, hidden.id) is None
        assert profiles.profile_to_show(members, members.id) is not None
        assert [p.user_id for p in profiles.directory(viewer, neighbourhood="oost")] == [members.id]
        assert profiles.neighbourhoods(outsider) == []


def test_saving_writes_only_the_fields_given(app):
    with app.app_context():
        make_domain("energie")
        housing = make_domain("wonen", "Wonen", "Housing")
        user = make_user()
        assert user.profile is None

        profile = profiles.save_profile(
            user, display_name="Rosa", neighbourhood=None, interests=[housing.id, 999]
        )
        db.session.commit()
        assert (profile.display_name, profile.neighbourhood) == ("Rosa", "")
        assert profile.visibility == Visibility.HIDDEN and profile.newsletter is False
        assert profile.interests == [housing]

        profiles.save_profile(user, visibility="members", newsletter=True, interests=[])
        db.session.commit()
        assert profile.display_name == "Rosa" and profile.interests == []
        assert (profile.visibility, profile.newsletter) == (Visibility.MEMBERS, True)

        with pytest.raises(TypeError):
            profiles.save_profile(user, email="other@example.org")
