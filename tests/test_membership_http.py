"""Joining over HTTP: free plan, bank transfer, Stripe (the fake server), approval."""

from urllib.parse import urlsplit

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Membership, MembershipStatus, Payment, PaymentStatus, Profile
from tests.conftest import deliver_webhook, post_form
from tests.factories import make_domain, make_plan, make_user

JOIN_DATA = {
    "display_name": "Ada L.",
    "registered_name": "Ada Lovelace",
    "street": "Javastraat",
    "house_number": "12-2",
    "postcode": "1094 HB",
    "city": "Amsterdam",
    "country": "NL",
    "neighbourhood": "Oost",
    "visibility": "members",
    "privacy": "y",
}


def membership_of(app, email="resident@example.org") -> Membership | None:
    with app.app_context():
        return db.session.scalar(
            sa.select(Membership)
            .join(Membership.user)
            .where(sa.text("users.email = :email"))
            .params(email=email)
            .options(sa.orm.joinedload(Membership.plan))
        )


def test_the_plans_page_links_to_each_plan(client, app):
    with app.app_context():
        make_plan("steunlid", name_en="Supporter")
    page = client.get("/join?lang=en").get_data(as_text=True)
    assert "Supporter" in page and 'href="/join/steunlid"' in page


def test_anonymous_visitors_are_asked_to_log_in_or_sign_up(client, app):
    with app.app_context():
        make_plan("steunlid")
    page = client.get("/join/steunlid?lang=en").get_data(as_text=True)
    assert "/auth/login?next=/join/steunlid" in page and "/auth/signup" in page
    assert client.get("/join/nothing").status_code == 404


def test_joining_a_free_plan_saves_the_profile_and_gives_a_number(client, app, auth):
    with app.app_context():
        make_plan("steunlid")
        energy = make_domain().id
        make_user()
    auth.login()
    response = post_form(client, "/join/steunlid?lang=en", {**JOIN_DATA, "interests": str(energy)})
    assert response.status_code == 303 and response.headers["Location"] == "/account/"
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "Welcome! You are member number 1." in page
    assert "Member number" in page
    membership = membership_of(app)
    assert membership.status == MembershipStatus.ACTIVE and membership.number == 1
    with app.app_context():
        profile = db.session.get(Profile, membership.user_id)
        assert (profile.display_name, profile.neighbourhood) == ("Ada L.", "Oost")
        assert [d.slug for d in profile.interests] == ["energie"]
    # Joining again is not offered.
    assert client.get("/join/steunlid").status_code == 303


def test_without_the_privacy_statement_nothing_happens_and_typing_is_kept(client, app, auth):
    with app.app_context():
        make_plan("steunlid")
        make_user()
    auth.login()
    response = post_form(
        client,
        "/join/steunlid?lang=en",
        {**JOIN_DATA, "privacy": "", "display_name": "Ada typed this"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please agree to the privacy statement to join." in page
    assert 'value="Ada typed this"' in page
    assert membership_of(app) is None

    response = post_form(client, "/join/steunlid?lang=en", {**JOIN_DATA, "display_name": ""})
    assert response.status_code == 422
    assert "Please fill in a name for your profile." in response.get_data(as_text=True)


def test_without_stripe_a_paid_plan_waits_for_the_bank_transfer(client, app, auth):
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        make_user()
    auth.login()
    response = post_form(client, "/join/lid?lang=en", JOIN_DATA)
    assert response.status_code == 303
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "Your membership starts when your bank transfer arrives." in page
    assert "To pay: €10.00." in page
    assert membership_of(app).status == MembershipStatus.PENDING_PAYMENT


def test_paying_on_stripe_makes_a_member_by_webhook_and_the_return_page(
    client, app, auth, fake_stripe
):
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        make_user(locale="en")
    auth.login()
    response = post_form(client, "/join/lid", {**JOIN_DATA, "pay_by": "online"})
    assert response.status_code == 303
    session_id = response.headers["Location"].rsplit("/", 1)[1]
    assert session_id.startswith("cs_")
    assert fake_stripe.sessions[session_id]["amount_total"] == 1000
    assert membership_of(app).status == MembershipStatus.PENDING_PAYMENT

    success = fake_stripe.pay(session_id)
    [event] = fake_stripe.held_events("checkout.session.completed")
    assert deliver_webhook(client, fake_stripe, event).status_code == 200
    membership = membership_of(app)
    assert membership.status == MembershipStatus.ACTIVE and membership.number == 1
    with app.app_context():
        [payment] = db.session.scalars(sa.select(Payment)).all()
        assert payment.status == PaymentStatus.PAID and payment.membership_id == membership.id

    back = urlsplit(success)
    page = client.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "Member number" in page.get_data(as_text=True)
    # The webhook again changes nothing.
    assert deliver_webhook(client, fake_stripe, event).status_code == 200
    assert membership_of(app).number == 1


def test_coming_back_before_the_webhook_the_page_asks_stripe(client, app, auth, fake_stripe):
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        make_user(locale="en")
    auth.login()
    response = post_form(client, "/join/lid", {**JOIN_DATA, "pay_by": "online"})
    success = fake_stripe.pay(response.headers["Location"].rsplit("/", 1)[1])
    back = urlsplit(success)
    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 303
    assert membership_of(app).status == MembershipStatus.ACTIVE


def test_a_cancelled_checkout_leaves_the_payment_open_to_try_again(client, app, auth, fake_stripe):
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        make_user(locale="en")
    auth.login()
    response = post_form(client, "/join/lid", {**JOIN_DATA, "pay_by": "online"})
    first = response.headers["Location"]
    page = client.get("/account/?checkout=cancelled", follow_redirects=True)
    assert "You have not paid yet" in page.get_data(as_text=True)
    again = post_form(client, "/account/membership/pay")
    assert again.status_code == 303 and again.headers["Location"] == first


def test_stripe_down_keeps_the_application_and_says_so(client, app, auth, fake_stripe):
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        make_user(locale="en")
    auth.login()
    fake_stripe.stop()
    response = post_form(client, "/join/lid", {**JOIN_DATA, "pay_by": "online"})
    assert response.status_code == 303 and response.headers["Location"] == "/account/"
    assert membership_of(app).status == MembershipStatus.PENDING_PAYMENT
