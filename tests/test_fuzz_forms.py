"""Hostile input: hypothesis posts generated values into every form a person can fill.

For each form the test posts, with a valid CSRF token and as the right person, a mix of
plausible values and hostile ones (unicode, control characters, NUL bytes, very long
strings, HTML, numbers as text, negative and huge numbers, fields left out, repeated or
added). Whatever comes in:

- the answer is never a 5xx (in testing an unhandled error is raised, so it fails too);
- a 422 leaves the database as it was;
- a redirect (or 204 for htmx) means something was stored, and what was stored obeys the
  form's rules (sizes, ranges, prices computed by the server, choices from the lists),
  holds no NUL character, and every e-mail queued with it can be built.

Each example cleans up the rows it made. Examples are derandomized, so CI is reproducible.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from cooperative.extensions import db, limiter
from cooperative.forms.events import MAX_COUNT, MAX_PARTY_SIZE
from cooperative.forms.membership import PROFILE_FIELDS
from cooperative.models import (
    DIETS,
    Attendee,
    Collective,
    CollectiveSuggestion,
    Event,
    EventStatus,
    MealOption,
    Membership,
    OutboxMessage,
    Payment,
    PaymentMode,
    Profile,
    Registration,
    User,
    Visibility,
    utcnow,
)
from cooperative.money import parse_euros
from cooperative.services.events import SLUG_MAX_LENGTH
from cooperative.services.mail import build_email
from cooperative.services.registration import PWYC_MAX_CENTS, PersonChoice, price_cents
from cooperative.slugs import slug_is_valid
from tests.conftest import csrf_token
from tests.factories import (
    make_admin,
    make_collective,
    make_domain,
    make_event,
    make_member,
    make_organiser,
    make_plan,
    make_registration,
    make_user,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EXAMPLES = 60


def fuzz(examples: int = EXAMPLES):
    """The settings of every fuzz test: a fixed budget, reproducible in CI."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- Values -------------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t\n\r",
    "\u200b",
    "\ufeff",
    "<script>alert(1)</script>",
    "<b>x</b>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "' OR 1=1 --",
    "%s%n%x",
    "-1",
    "0",
    "-0",
    "1e309",
    "NaN",
    "inf",
    "99999999999999999999999",
    "-99999999999999999999999",
    "4,50",
    "€ 4,50",
    "١٢٣",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🎉",
    "Zoë Çelik-Ünal",
    "a\r\nBcc: evil@example.org",
    "x" * 400,
]

control_text = st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs"]), max_size=8)
long_text = st.builds(
    lambda char, n: char * n, st.sampled_from("aé<\x00 🎉"), st.integers(100, 21_000)
)
hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    control_text,
    long_text,
    st.integers(-(10**20), 10**20).map(str),
)


def text_like(*valid: str):
    """A field's value: mostly one of `valid` or harmless text, sometimes hostile."""
    return st.one_of(
        st.sampled_from(valid) if valid else st.text(min_size=1, max_size=30),
        st.text(min_size=1, max_size=30),
        st.sampled_from(["<script>alert(1)</script>", "<b>x</b>", "Zoë 🎉", "42"]),
    )


@st.composite
def form(draw, valid: dict, hostile: dict | None = None, extra_keys=()):
    """Form data with a few fields corrupted: left out, repeated, hostile; extra fields too.

    `valid` maps a field to a strategy for plausible values (mostly accepted); `hostile`
    adds strategies for fields that deserve their own nasty values (default hostile_text).
    Returns a MultiDict ready to post.
    """
    hostile = hostile or {}
    names = list(valid)
    corrupted = draw(st.sets(st.sampled_from(names), max_size=min(3, len(names))))
    data = MultiDict()
    for name in names:
        if name not in corrupted:
            value = draw(valid[name])
            if value is not None:
                data.add(name, value)
            continue
        how = draw(st.sampled_from(["missing", "hostile", "hostile", "repeated"]))
        if how == "missing":
            continue
        strategy = st.one_of(hostile.get(name, hostile_text), hostile_text)
        if how == "repeated":
            for value in draw(st.lists(strategy, min_size=2, max_size=3)):
                data.add(name, value)
        else:
            data.add(name, draw(strategy))
    for key, value in draw(
        st.dictionaries(
            st.one_of(
                st.sampled_from(list(extra_keys) or ["x"]),
                st.from_regex(r"x[a-z_-]{0,8}", fullmatch=True),
            ),
            hostile_text,
            max_size=2,
        )
    ).items():
        data.add(key, value)
    return data


def post(client, url: str, data: MultiDict, token: str, **kwargs):
    """POST `data` with the session's CSRF token; the rate limits start afresh each time
    (the examples come faster than any person posts)."""
    limiter.reset()
    data = MultiDict(data)
    data.setlist("csrf_token", [token])
    return client.post(url, data=data, **kwargs)


# --- What a stored row may hold -------------------------------------------------------------


def clean_text(value: str | None, max_length: int, required: bool = False) -> bool:
    """Text that went through validation: within its length, no NUL, and not blank when
    the field is required."""
    value = value or ""
    if "\x00" in value or len(value) > max_length:
        return False
    return bool(value.strip()) or not required


def row_state(model, *where) -> list[tuple]:
    """Every column of the rows of `model` (that match `where`), to compare before and after."""
    columns = list(model.__table__.columns)
    rows = db.session.execute(
        sa.select(*columns).where(*where).order_by(*model.__table__.primary_key.columns)
    )
    return [tuple(row) for row in rows]


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def new_mail_builds(before: int) -> None:
    """Every e-mail queued by the example can be turned into a real message."""
    for message in db.session.scalars(sa.select(OutboxMessage).offset(before)):
        build_email(message)


def delete_all(*models) -> None:
    for model in models:
        db.session.execute(sa.delete(model))
    db.session.commit()


def assert_answered(response, allowed=(200, 204, 303, 422)) -> None:
    assert response.status_code < 500, response.status_code
    assert response.status_code in allowed, response.status_code
    event(f"status {response.status_code}")


# --- Registration ---------------------------------------------------------------------------


@pytest.fixture
def registration_event(app):
    with app.app_context():
        event = make_event(
            capacity=20,
            max_party_size=4,
            ticket_price_cents=150,
            meals=[
                {
                    "name": "Diner",
                    "price_cents": 500,
                    "capacity": 10,
                    "diets": ["vegetarian", "vegan"],
                },
                {
                    "name": "Soep",
                    "price_cents": 0,
                    "pwyc_min_cents": 200,
                    "pwyc_suggested_cents": 600,
                    "capacity": None,
                    "diets": ["halal", "other"],
                },
            ],
        )
        return event.slug, [option.id for option in event.meal_options]


@st.composite
def registration_form(draw, meal_ids):
    meal_values = st.sampled_from(["", *map(str, meal_ids)])
    diet_values = st.one_of(
        st.just([]), st.just(["vegan"]), st.lists(st.sampled_from(DIETS), max_size=3, unique=True)
    )
    valid = {
        "contact_name": text_like("Ada Lovelace", "Zoë"),
        "contact_email": st.sampled_from(
            ["ada@example.org", "ZOË@Example.org", "a.b+c@example.nl"]
        ),
        "meal_amount": st.sampled_from(["", "", "4,50", "2", "€ 6", "1", "100,01", "-3"]),
        "pay_method": st.sampled_from(["door", "online"]),
    }
    people = draw(st.one_of(st.integers(1, 2), st.integers(0, 6)))
    for i in range(people):
        valid[f"people-{i}-name"] = text_like("Ada", "Bo")
        valid[f"people-{i}-meal"] = meal_values
        valid[f"people-{i}-diet_note"] = text_like("", "no nuts")
    data = draw(
        form(valid, {"contact_email": st.sampled_from(["ada", "@", "a@b", "x" * 300 + "@e.nl"])})
    )
    for i in range(people):  # diets are checkboxes: zero or more values under one name
        for diet in draw(st.one_of(diet_values, st.lists(hostile_text, max_size=2))):
            data.add(f"people-{i}-diets", diet)
    if draw(st.integers(0, 4)) == 0 and people:  # a gap in the numbering, or a far-off row
        data.add(f"people-{draw(st.integers(people, 10**6))}-name", draw(hostile_text))
    data.add("submit", "register")
    return data


@fuzz(80)
@given(data=st.data())
def test_registration_form(app, client, registration_event, data):
    slug, meal_ids = registration_event
    posted = data.draw(registration_form(meal_ids))
    with app.app_context():
        token = csrf_token(client, f"/events/{slug}")
        before, mails = count(Registration), count(OutboxMessage)
        response = post(client, f"/events/{slug}/register", posted, token)
        assert_answered(response, (204, 303, 422))
        if response.status_code == 422:
            assert (count(Registration), count(OutboxMessage)) == (before, mails)
        else:
            assert count(Registration) == before + 1
            registration = db.session.scalars(sa.select(Registration)).one()
            event = registration.event
            people = [a for a in registration.attendees]
            assert 1 <= len(people) <= event.max_party_size
            assert clean_text(registration.contact_name, 120, required=True)
            assert "@" in registration.contact_email and len(registration.contact_email) <= 254
            options = {option.id: option for option in event.meal_options}
            for person in people:
                assert clean_text(person.name, 120, required=True)
                assert clean_text(person.diet_note, 300)
                if person.meal_option_id is None:
                    assert person.diets == [] and person.diet_note == ""
                else:
                    assert set(person.diets) <= set(options[person.meal_option_id].diets)
            amount = posted.get("meal_amount", "")
            choices = [PersonChoice(a.name, a.meal_option_id) for a in people]
            expected = price_cents(event, choices, parse_euros(amount) if amount.strip() else None)
            assert registration.amount_due_cents == expected
            for person in people:
                if (
                    person.meal_option_id is not None
                    and options[person.meal_option_id].pay_what_you_can
                ):
                    assert 200 <= (parse_euros(amount) or 600) <= PWYC_MAX_CENTS
            new_mail_builds(mails)
            assert client.get(f"/r/{registration.token}").status_code == 200
        delete_all(Payment, Attendee, Registration, OutboxMessage)


# --- Sign-up --------------------------------------------------------------------------------


@fuzz()
@given(
    posted=form(
        {
            "name": text_like("Ada", "Zoë Çelik"),
            "email": st.sampled_from(["new@example.org", "Ünï@example.nl", "known@example.org"]),
            "password": st.sampled_from(["correct horse battery", "short", "é" * 8]),
            "password_confirm": st.sampled_from(["correct horse battery", "é" * 8]),
        },
        {"email": st.sampled_from(["no-at", "a@b", "x" * 260 + "@example.org"])},
    )
)
def test_signup_form(app, client, posted):
    with app.app_context():
        if not db.session.scalar(sa.select(User).where(User.email == "known@example.org")):
            make_user("known@example.org")
        token = csrf_token(client, "/auth/signup")
        users, mails = row_state(User), count(OutboxMessage)
        response = post(client, "/auth/signup", posted, token)
        assert_answered(response, (303, 422))
        if response.status_code == 422:
            assert (row_state(User), count(OutboxMessage)) == (users, mails)
        else:
            assert count(OutboxMessage) == mails + 1
            for user in db.session.scalars(
                sa.select(User).where(User.email != "known@example.org")
            ):
                assert clean_text(user.name, 120, required=True)
                assert "@" in user.email and len(user.email) <= 254
                assert user.email == user.email.lower()
                assert user.email_confirmed_at is None
            new_mail_builds(mails)
        db.session.execute(sa.delete(OutboxMessage))
        db.session.execute(sa.delete(User).where(User.email != "known@example.org"))
        db.session.commit()


# --- Joining --------------------------------------------------------------------------------


@pytest.fixture
def joiner(app, client, auth):
    with app.app_context():
        domains = [make_domain(), make_domain("wonen", "Wonen", "Housing")]
        make_plan("lid")
        make_plan("steun", fee_cents=1500, period="yearly")
        make_plan("buur", needs_approval=True)
        make_admin()
        user = make_user()
        ids = [d.id for d in domains]
        user_id = user.id
    auth.login()
    return user_id, ids


@fuzz()
@given(data=st.data())
def test_join_form(app, client, joiner, data):
    user_id, domain_ids = joiner
    plan = data.draw(st.sampled_from(["lid", "steun", "buur"]))
    posted = data.draw(
        form(
            {
                "display_name": text_like("Ada", "<b>x</b>"),
                "neighbourhood": text_like("", "Oost", "De Pijp"),
                "interests": st.sampled_from([None, *map(str, domain_ids)]),
                "visibility": st.sampled_from([v.value for v in Visibility]),
                "newsletter": st.sampled_from([None, "y"]),
                "privacy": st.sampled_from(["y", "y", None]),
                "pay_by": st.sampled_from(["online", "bank_transfer", None]),
                "registered_name": text_like("Ada Lovelace"),
                "street": text_like("Javastraat"),
                "house_number": text_like("12-2"),
                "postcode": st.sampled_from(["1094 HB", "1094hb", "0094 HB", "1094 SS", "", None]),
                "city": text_like("Amsterdam"),
                "country": st.sampled_from(["NL", "BE", "XX", None]),
                "email_notices": st.sampled_from([None, "y"]),
            },
            {"interests": st.sampled_from(["0", "-1", "abc", "99999999999999999999"])},
        )
    )
    with app.app_context():
        token = csrf_token(client, f"/join/{plan}")
        profiles, mails = row_state(Profile), count(OutboxMessage)
        response = post(client, f"/join/{plan}", posted, token)
        assert_answered(response, (303, 422))
        membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == user_id))
        if response.status_code == 422:
            assert membership is None
            assert (row_state(Profile), count(OutboxMessage)) == (profiles, mails)
        else:
            assert membership is not None and membership.plan.slug == plan
            assert membership.privacy_accepted_at is not None
            profile = db.session.get(Profile, user_id)
            assert clean_text(profile.display_name, 120, required=True)
            assert clean_text(profile.neighbourhood, 80)
            assert {d.id for d in profile.interests} <= set(domain_ids)
            new_mail_builds(mails)
            assert client.get("/account/").status_code == 200
        db.session.execute(sa.delete(Payment))
        db.session.execute(sa.delete(Membership))
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()
        profile = db.session.get(Profile, user_id)
        if profile is not None:
            db.session.delete(profile)
            db.session.commit()


# --- The profile ----------------------------------------------------------------------------


@pytest.fixture
def member(app, auth):
    with app.app_context():
        domains = [make_domain(), make_domain("wonen", "Wonen", "Housing")]
        user = make_member(display_name="Mia", bio="Hallo")
        ids, user_id = [d.id for d in domains], user.id
    auth.login("member@example.org")
    return user_id, ids


def profile_form(domain_ids):
    return form(
        {
            "display_name": text_like("Mia", "<script>alert(1)</script>"),
            "neighbourhood": text_like("", "Oost"),
            "bio": text_like("", "Ik kook graag.", "<b>x</b>"),
            "interests": st.sampled_from([None, *map(str, domain_ids)]),
            "offer": text_like("", "Fietsen repareren"),
            "visibility": st.sampled_from([v.value for v in Visibility]),
            "newsletter": st.sampled_from([None, "y"]),
        },
        {"interests": st.sampled_from(["0", "-1", "x", "1e3"])},
    )


def assert_profile_obeys(user_id, domain_ids) -> None:
    profile = db.session.get(Profile, user_id)
    db.session.refresh(profile)
    assert clean_text(profile.display_name, 120, required=True)
    assert clean_text(profile.neighbourhood, 80)
    assert clean_text(profile.bio, 1000)
    assert clean_text(profile.offer, 1000)
    assert profile.visibility in set(Visibility)
    assert {d.id for d in profile.interests} <= set(domain_ids)


def profile_state(user_id):
    profile = db.session.get(Profile, user_id)
    db.session.refresh(profile)
    return row_state(Profile), sorted(d.id for d in profile.interests)


@fuzz()
@given(data=st.data())
def test_profile_form(app, client, member, data):
    user_id, domain_ids = member
    posted = data.draw(profile_form(domain_ids))
    # The whole form, or one field saved in place (as htmx does it, or without JavaScript).
    url = data.draw(
        st.one_of(
            st.just("/account/profile"),
            st.sampled_from(PROFILE_FIELDS).map(lambda name: f"/account/profile/{name}"),
        )
    )
    headers = data.draw(st.sampled_from([{}, {"HX-Request": "true", "HX-Target": "profile-bio"}]))
    with app.app_context():
        token = csrf_token(client, "/account/profile")
        before = profile_state(user_id)
        response = post(client, url, posted, token, headers=headers)
        assert_answered(response)
        if response.status_code == 422:
            assert profile_state(user_id) == before
        assert_profile_obeys(user_id, domain_ids)
        assert client.get("/account/").status_code == 200


# --- The organisers' event form -------------------------------------------------------------


@pytest.fixture
def organiser(app, auth):
    with app.app_context():
        collective = make_collective()
        other = make_collective("ander", "Ander")
        make_organiser(collective)
        ids = (collective.id, other.id)
    auth.login("organiser@example.org")
    return ids


def local(days: int, hour: int = 18) -> str:
    moment = datetime.now(AMSTERDAM).replace(hour=hour, minute=0) + timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M")


datetimes_as_text = st.one_of(
    st.sampled_from([local(10), local(10, 21), local(9), local(11), local(5), ""]),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)).map(
        lambda moment: moment.strftime("%Y-%m-%dT%H:%M")
    ),
    st.sampled_from(
        ["0001-01-01T00:00", "9999-12-31T23:59", "2030-02-30T10:00", "2030-03-31T02:30"]
    ),
)
amounts = st.sampled_from(["0", "4,50", "4.5", "€ 6", "", "-1", "99999", "100000", "1,999"])
counts = st.sampled_from(["", "1", "40", "0", "-5", str(MAX_COUNT), str(MAX_COUNT + 1), "1.5"])


@st.composite
def event_form(draw, collective_ids):
    valid = {
        "title": text_like("Buurtdiner", "<script>alert(1)</script>"),
        "slug": st.sampled_from(["", "buurtdiner", "a-b", "Hoofdletters"]),
        "summary": text_like("", "Eten met de buren"),
        "description": text_like("", "Kom ook!"),
        "starts_at": st.sampled_from([local(10)]),
        "ends_at": st.sampled_from([local(10, 21)]),
        "venue": text_like("", "Buurthuis"),
        "address": text_like("", "Straat 1"),
        "collective_id": st.sampled_from([str(collective_ids[0])]),
        "audience": text_like("", "iedereen"),
        "capacity": counts,
        "ticket_price": amounts,
        "payment_mode": st.sampled_from([m.value for m in PaymentMode]),
        "refund_until": st.sampled_from(["", local(8)]),
        "max_party_size": st.sampled_from(["6", "1", str(MAX_PARTY_SIZE)]),
        "registration_opens_at": st.sampled_from(["", local(1)]),
        "registration_closes_at": st.sampled_from(["", local(9)]),
    }
    meals = draw(st.integers(0, 3))
    for i in range(meals):
        valid |= {
            f"meals-{i}-id": st.sampled_from(["", "1", "99999999999999999999"]),
            f"meals-{i}-name": text_like("Diner", "Soep"),
            f"meals-{i}-price": amounts,
            f"meals-{i}-pay_what_you_can": st.sampled_from([None, "y"]),
            f"meals-{i}-pwyc_min": amounts,
            f"meals-{i}-pwyc_suggested": amounts,
            f"meals-{i}-capacity": counts,
            f"meals-{i}-signup_deadline": st.sampled_from(["", local(9)]),
        }
    hostile = {
        name: datetimes_as_text
        for name in (
            "starts_at",
            "ends_at",
            "refund_until",
            "registration_opens_at",
            "registration_closes_at",
        )
    } | {
        "collective_id": st.sampled_from(["", str(collective_ids[1]), "0", "-1", "1e3"]),
        "max_party_size": st.sampled_from(["0", "21", "-1", "99999999999999999999"]),
        "capacity": counts,
    }
    for i in range(meals):
        hostile[f"meals-{i}-signup_deadline"] = datetimes_as_text
    data = draw(form(valid, hostile, extra_keys=["meals-99-name", "meals--1-name", "meals-x-name"]))
    for i in range(meals):
        for diet in draw(
            st.one_of(
                st.lists(st.sampled_from(DIETS), max_size=3), st.lists(hostile_text, max_size=2)
            )
        ):
            data.add(f"meals-{i}-diets", diet)
    data.add("save", "1")
    return data


@fuzz()
@given(data=st.data())
def test_event_form(app, client, organiser, data):
    posted = data.draw(event_form(organiser))
    with app.app_context():
        token = csrf_token(client, "/manage/events/new")
        before = (count(Event), count(MealOption))
        response = post(client, "/manage/events/new", posted, token)
        assert_answered(response, (204, 303, 422))
        if response.status_code == 422:
            assert (count(Event), count(MealOption)) == before
        else:
            event = db.session.scalars(sa.select(Event)).one()
            assert event.status == EventStatus.DRAFT
            assert event.collective_id == organiser[0]
            assert clean_text(event.title, 200, required=True)
            assert slug_is_valid(event.slug, SLUG_MAX_LENGTH)
            for text, limit in [
                (event.summary, 300),
                (event.description, 20_000),
                (event.venue, 160),
                (event.address, 300),
                (event.audience, 200),
            ]:
                assert clean_text(text, limit)
            assert event.starts_at < event.ends_at
            assert event.capacity is None or 1 <= event.capacity <= MAX_COUNT
            assert 1 <= event.max_party_size <= MAX_PARTY_SIZE
            assert event.ticket_price_cents >= 0
            opens, closes = event.registration_opens_at, event.registration_closes_at
            assert opens is None or opens < event.starts_at
            assert closes is None or (closes <= event.ends_at and (opens is None or opens < closes))
            for option in event.meal_options:
                assert clean_text(option.name, 160, required=True)
                assert option.price_cents >= 0
                assert set(option.diets) <= set(DIETS)
                assert option.capacity is None or 1 <= option.capacity <= MAX_COUNT
                if option.pay_what_you_can:
                    assert (
                        0 <= option.pwyc_min_cents <= option.pwyc_suggested_cents <= PWYC_MAX_CENTS
                    )
            assert client.get(f"/manage/events/{event.id}/edit").status_code == 200
        delete_all(MealOption, Event)


# --- Collective editing ---------------------------------------------------------------------


@pytest.fixture
def collective_editor(app, auth):
    with app.app_context():
        domains = [make_domain(), make_domain("wonen", "Wonen", "Housing")]
        collective = make_collective(domain=domains[0], summary="Zon op elk dak")
        make_organiser(collective)
        ids, slug = [d.id for d in domains], collective.slug
    auth.login("organiser@example.org")
    return slug, ids


@fuzz()
@given(data=st.data())
def test_collective_form(app, client, collective_editor, data):
    slug, domain_ids = collective_editor
    posted = data.draw(
        form(
            {
                "summary": text_like("", "Zon op elk dak"),
                "description": text_like("", "Wij leggen panelen."),
                "primary_domain": st.sampled_from([str(domain_ids[0]), str(domain_ids[1])]),
                "other_domains": st.sampled_from([None, str(domain_ids[1])]),
                "neighbourhood": text_like("", "Oost"),
                "legal_form": text_like("", "coöperatie"),
                "founded_year": st.sampled_from(["", "2019", "1800", "1799", "3000", "-1", "20.5"]),
                "website": st.sampled_from(
                    [
                        "",
                        "zonnedak.nl",
                        "https://zonnedak.nl/a?b=c",
                        "x" * 296 + ".nl",
                        "javascript:alert(1)",
                    ]
                ),
                "contact_email": st.sampled_from(["", "info@zonnedak.nl", "no-at"]),
            },
            {
                "primary_domain": st.sampled_from(["", "0", "-1", "99999999999999999999"]),
                "founded_year": st.sampled_from(["99999999999999999999", "1e3", "٢٠١٩"]),
            },
        )
    )
    headers = data.draw(
        st.sampled_from([{}, {"HX-Request": "true", "HX-Target": "collective-details"}])
    )
    with app.app_context():
        token = csrf_token(client, f"/collectives/{slug}/edit")
        before = row_state(Collective)
        response = post(client, f"/collectives/{slug}/edit", posted, token, headers=headers)
        assert_answered(response, (200, 303, 422))
        collective = db.session.scalar(sa.select(Collective).where(Collective.slug == slug))
        db.session.refresh(collective)
        if response.status_code == 422:
            assert row_state(Collective) == before
        for text, limit in [
            (collective.summary, 300),
            (collective.description, 10_000),
            (collective.neighbourhood, 80),
            (collective.legal_form, 80),
            (collective.contact_email, 254),
        ]:
            assert clean_text(text, limit)
        assert clean_text(collective.website, 300)
        assert collective.website == "" or collective.website.startswith(("http://", "https://"))
        year = collective.founded_year
        assert year is None or 1800 <= year <= utcnow().year
        assert collective.primary_domain_id in domain_ids
        assert client.get(f"/collectives/{slug}").status_code == 200


# --- Suggesting a collective ----------------------------------------------------------------


@pytest.fixture
def suggestion_domains(app):
    with app.app_context():
        ids = [make_domain().id, make_domain("wonen", "Wonen", "Housing").id]
        make_admin()
    return ids


@fuzz()
@given(data=st.data())
def test_suggestion_form(app, client, suggestion_domains, data):
    posted = data.draw(
        form(
            {
                "name": text_like("Zonnedak Oost", "<b>x</b>"),
                "domain": st.sampled_from(list(map(str, suggestion_domains))),
                "neighbourhood": text_like("", "Oost"),
                "website": st.sampled_from(["", "zonnedak.nl", "x" * 296 + ".nl"]),
                "contact_email": st.sampled_from(["ada@example.org", "Zoë@example.nl"]),
                "reason": text_like("Ze leggen zonnepanelen.", "<script>alert(1)</script>"),
            },
            {"domain": st.sampled_from(["", "0", "-1", "99999999999999999999"])},
        )
    )
    with app.app_context():
        token = csrf_token(client, "/collectives/suggest")
        before, mails = count(CollectiveSuggestion), count(OutboxMessage)
        response = post(client, "/collectives/suggest", posted, token)
        assert_answered(response, (303, 422))
        if response.status_code == 422:
            assert (count(CollectiveSuggestion), count(OutboxMessage)) == (before, mails)
        else:
            suggestion = db.session.scalars(sa.select(CollectiveSuggestion)).one()
            assert clean_text(suggestion.name, 160, required=True)
            assert clean_text(suggestion.reason, 5000, required=True)
            assert clean_text(suggestion.neighbourhood, 80)
            assert clean_text(suggestion.website, 300)
            assert "@" in suggestion.contact_email
            assert suggestion.domain_id in suggestion_domains
            new_mail_builds(mails)
        delete_all(OutboxMessage, CollectiveSuggestion)


# --- Pinned: what the fuzzing found, as plain examples ---------------------------------------


def test_a_nul_character_is_dropped_from_typed_text(app, client):
    """PostgreSQL cannot store NUL: a name with one used to be a 500 there."""
    with app.app_context():
        response = post(
            client,
            "/auth/signup",
            MultiDict(
                {
                    "name": "Ada\x00 Lovelace",
                    "email": "ada@example.org",
                    "password": "correct horse battery",
                    "password_confirm": "correct horse battery",
                }
            ),
            csrf_token(client, "/auth/signup"),
        )
        assert response.status_code == 303
        assert db.session.scalars(sa.select(User.name)).one() == "Ada Lovelace"


def test_a_website_too_long_once_https_is_added_is_refused(app, client, collective_editor):
    """`https://` is added to a bare address: 295 characters became 303, more than the
    database keeps (a 500 on PostgreSQL)."""
    slug, domain_ids = collective_editor
    client.get("/?lang=en")
    with app.app_context():
        website = "zonnedak.nl/" + "x" * 283
        response = post(
            client,
            f"/collectives/{slug}/edit",
            MultiDict({"primary_domain": str(domain_ids[0]), "website": website}),
            csrf_token(client, f"/collectives/{slug}/edit"),
        )
        assert response.status_code == 422
        assert "under 300 characters" in response.get_data(as_text=True)
        assert db.session.scalar(sa.select(Collective.website)) == ""


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [("0001-01-01T00:00", "0001-01-01T05:00"), ("9999-12-31T20:00", "9999-12-31T23:00")],
)
def test_an_event_at_the_ends_of_the_calendar_is_refused(
    app, client, organiser, starts_at, ends_at
):
    """Year 1 at 00:00 in Amsterdam is year 0 in UTC: it used to be a 500."""
    client.get("/?lang=en")
    with app.app_context():
        response = post(
            client,
            "/manage/events/new",
            MultiDict(
                {
                    "title": "Buurtdiner",
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "collective_id": str(organiser[0]),
                    "ticket_price": "0",
                    "payment_mode": "door",
                    "max_party_size": "6",
                    "save": "1",
                }
            ),
            csrf_token(client, "/manage/events/new"),
        )
        assert response.status_code == 422
        assert "Please write a year from 1900 to 2999." in response.get_data(as_text=True)
        assert count(Event) == 0


# --- HTML typed anywhere is shown as text ----------------------------------------------------

HTML = "<script>alert(1)</script><b>x</b>"


def test_html_in_every_text_field_is_shown_as_text(app, client, auth):
    """What people type is text: every page that shows a name, note, bio, title,
    description or reason shows `<script>` as `&lt;script&gt;`, never as markup."""
    with app.app_context():
        domain = make_domain()
        collective = make_collective(
            domain=domain,
            name=HTML,
            summary=HTML,
            description=HTML,
            neighbourhood=HTML,
            legal_form=HTML,
        )
        event = make_event(
            title=HTML,
            summary=HTML,
            description=HTML,
            venue=HTML,
            address=HTML,
            audience=HTML,
            collective=collective,
            meals=[{"name": HTML, "diets": ["other"]}],
        )
        meal_id = event.meal_options[0].id
        db.session.add(
            CollectiveSuggestion(
                name=HTML, reason=HTML, neighbourhood=HTML, contact_email="a@example.org"
            )
        )
        make_admin()
        make_member(display_name=HTML, bio=HTML, offer=HTML, visibility="public")
        member = db.session.scalar(sa.select(User).where(User.email == "member@example.org"))
        member.name = HTML
        db.session.commit()
        member_id, event_id, slug = member.id, event.id, collective.slug
        registration = make_registration_with_note(event, meal_id)
        attendee_token = registration.token

    def shown_as_text(url: str) -> None:
        body = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in body, url
        assert "<script>alert(1)" not in body and "<b>x</b>" not in body, url

    for url in [
        "/",
        "/events",
        "/events/buurtdiner",
        f"/r/{attendee_token}",
        "/collectives",
        f"/collectives/{slug}",
    ]:
        shown_as_text(url)
    auth.login("admin@example.org")
    for url in [
        "/manage/events",
        f"/manage/events/{event_id}/edit",
        f"/manage/events/{event_id}/attendees",
        f"/manage/events/{event_id}/kitchen",
        "/admin/collectives/suggestions",
        f"/members/{member_id}",
    ]:
        shown_as_text(url)
    auth.logout()
    auth.login("member@example.org")
    for url in ["/account/", "/account/profile", "/account/registrations"]:
        shown_as_text(url)


def make_registration_with_note(event, meal_id):
    """A party of two with HTML in the contact's name, the names and the kitchen note,
    made by the member (so it shows among their registrations)."""
    member = db.session.scalar(sa.select(User).where(User.email == "member@example.org"))
    return make_registration(
        event,
        [PersonChoice(HTML, meal_option_id=meal_id, diets=["other"], diet_note=HTML), HTML],
        email="member@example.org",
        contact_name=HTML,
        user=member,
    )
