"""Who may use which route: every rule of the app's URL map, called as each kind of person.

The world: collectives A (Zonnedak) and B (Voedselbank), an organiser of each, an admin,
an active member with a profile, and a guest (an account without membership) whose
registration for A's event gives the `/r/<token>` and `/t/<ticket>` links. Every rule is
called with its URL filled from that world (A's event, A's collective, the guest's
token...), once per role and per method it allows: GET as a page, POST with a valid CSRF
token and an almost empty form.

The answer is sorted into an outcome: OK (the page, a redirect elsewhere, or the form back
with 422), LOGIN (sent to the log-in page), NO (403), HIDDEN (404) or BAD (400, the form
refused). `EXPECTED` holds one outcome per role for every endpoint: a new route without a
row fails `test_every_route_has_a_row`.

Private links are keys by design: whoever holds a registration's token (or a calendar
feed's, a confirmation's, a reset's) may use it, whoever is logged in; a forged one is 404.
"""

from datetime import date, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    AudienceKind,
    CollectiveRole,
    CollectiveSuggestion,
    CostSplit,
    Membership,
    Payment,
    Registration,
    ShareClass,
    ShareTransfer,
    User,
)
from cooperative.services import (
    accounts,
    announcements,
    collaboration_costs,
    privacy,
    shares,
    unsubscribe,
)
from cooperative.services import series as series_service
from cooperative.services.collaboration_costs import CostDetails
from cooperative.services.registration import PersonChoice
from tests.collaboration_factories import (
    make_collaboration,
    make_commitment,
    make_organisation,
    make_progress,
    make_question,
    organisation_of,
)
from tests.conftest import csrf_token
from tests.factories import (
    make_admin,
    make_collective,
    make_event,
    make_member,
    make_organiser,
    make_plan,
    make_registration,
    make_user,
)
from tests.series_fixtures import make_series

# `programme`: programme staff (issue 18), who run the work with the city.
ROLES = ("anonymous", "guest", "member", "organiser_a", "organiser_b", "admin", "programme")

OK = "ok"
LOGIN = "login"
NO = "403"
HIDDEN = "404"
BAD = "400"


def row(anonymous, guest, member, organiser_a, organiser_b, admin, programme=None) -> dict:
    """One outcome per role, in the order of ROLES. Programme staff (an account without
    a membership, `is_programme_staff`) answer as the guest unless `programme` says."""
    programme = guest if programme is None else programme
    return dict(
        zip(
            ROLES,
            (anonymous, guest, member, organiser_a, organiser_b, admin, programme),
            strict=True,
        )
    )


EVERYONE = row(OK, OK, OK, OK, OK, OK)
LOGGED_IN = row(LOGIN, OK, OK, OK, OK, OK)
ADMINS = row(LOGIN, NO, NO, NO, NO, OK)
ORGANISERS = row(LOGIN, NO, NO, OK, OK, OK)
A_EVENT = row(LOGIN, NO, NO, OK, NO, OK)  # an event of collective A: its organisers, admins
# Issue 18: the collaborations' back office. Programme staff and admins; the world's
# collaboration has Zonnedak as a party with organiser A as its contact.
PROGRAMME = row(LOGIN, NO, NO, NO, NO, OK, OK)
CONTACT_A = row(LOGIN, NO, NO, OK, NO, OK, OK)
# One collaboration's back-office pages: whoever is in no party of it and is not
# programme staff does not see that it exists (404); organiser A, its party's contact,
# opens the pages for contacts and gets 403 on those for staff.
KOPPEL_STAFF = row(LOGIN, HIDDEN, HIDDEN, NO, HIDDEN, OK, OK)
KOPPEL_CONTACT = row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, OK, OK)
# The member's own shares: whoever else asks (no membership, or not theirs) gets 404.
OWN_SHARES = row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN)


# endpoint: one row for every method, or {method: row}.
EXPECTED: dict[str, dict] = {
    # Public pages and feeds.
    "public.index": EVERYONE,
    "public.healthz": EVERYONE,
    "public.join": EVERYONE,
    "public.privacy": EVERYONE,
    "public.join_plan": EVERYONE,
    "events.index": EVERYONE,
    "events.feed": EVERYONE,
    "events.show": EVERYONE,
    "events.calendar": EVERYONE,
    "collectives.index": EVERYONE,
    "collectives.show": EVERYONE,
    "collectives.details": EVERYONE,
    "collectives.feed": EVERYONE,
    "feeds.rss": EVERYONE,
    "feeds.atom": EVERYONE,
    "embed.collective_events": EVERYONE,
    "embed.domain_events": EVERYONE,
    "collectives.suggest": EVERYONE,
    "api.collectives": EVERYONE,
    "api.domains": EVERYONE,
    "api.event": EVERYONE,
    "api.events": EVERYONE,
    "api.openapi": EVERYONE,
    # Issue 18: the public register of collaborations. No collaboration exists in this
    # world: a page, feed or API answer of one is 404 for everyone (drafts and who sees
    # them: tests/test_collaborations_public.py).
    "collaborations.index": EVERYONE,
    "collaborations.atom": EVERYONE,
    "collaborations.show": row(HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "collaborations.feed": row(HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "api.collaborations": EVERYONE,
    "api.collaboration": row(HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    # Accounts: anyone may try; the links in e-mails work for whoever holds them.
    "auth.signup": EVERYONE,
    "auth.login": EVERYONE,
    "auth.logout": EVERYONE,
    "auth.check_email": EVERYONE,
    "auth.confirm": EVERYONE,
    "auth.reset_request": EVERYONE,
    "auth.reset_password": EVERYONE,
    # The log-in's second step: only after a right password, else back to the log-in.
    "two_factor.login_code": row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    # A registration's private pages: the token is the key.
    "registrations.register": EVERYONE,
    "registrations.already_registered": EVERYONE,
    "registrations.manage": EVERYONE,
    "registrations.ticket": EVERYONE,
    "registrations.cancel": EVERYONE,
    "registrations.edit": EVERYONE,
    "registrations.forget": EVERYONE,
    "registrations.pay": EVERYONE,
    # One's own account: only ever one's own data (no id in the URL).
    "account.index": LOGGED_IN,
    "account.registrations": LOGGED_IN,
    "account.profile": LOGGED_IN,
    "account.profile_field": LOGGED_IN,
    "account.edit_profile_field": LOGGED_IN,
    "account.save_profile_field": LOGGED_IN,
    "account.change_email": LOGGED_IN,
    "account.change_password": LOGGED_IN,
    "account.reset_calendar": LOGGED_IN,
    "account.export": LOGGED_IN,
    "account.delete": LOGGED_IN,
    "account.pay": row(LOGIN, BAD, OK, BAD, BAD, BAD),  # never joined: refused
    # One's own entry in the member register: only for whoever joined (404 otherwise).
    "account_register.address": row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    "account_register.notices": row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    "account_register.cancel": row(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    "account.confirm_email_change": EVERYONE,
    "account.calendar_feed": EVERYONE,
    "two_factor.settings": LOGGED_IN,
    "two_factor.start": LOGGED_IN,
    "two_factor.confirm": LOGGED_IN,
    "two_factor.disable": LOGGED_IN,
    "two_factor.new_recovery_codes": LOGGED_IN,
    # Members' directory: active members only; a profile as its owner chose ("members").
    "members.index": row(LOGIN, NO, OK, NO, NO, NO),
    "members.show": row(HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN),
    # A collective's page, edited by its own people and admins.
    "collectives.edit": row(LOGIN, NO, NO, OK, NO, OK),
    # The organisers' back office.
    "manage.index": ORGANISERS,
    "manage.events": ORGANISERS,
    "manage.new_event": ORGANISERS,
    "manage.edit_event": A_EVENT,
    "manage.publish_event": A_EVENT,
    "manage.cancel_event": A_EVENT,
    # Event series (issue 17): organisers of the series' collective, and admins.
    # Announcements (issue 17): organisers and admins; a record for whom it concerns
    # (the world's is organiser A's, to collective A's followers).
    "announcements.index": ORGANISERS,
    "announcements.new": ORGANISERS,
    "announcements.show": A_EVENT,
    # The one-click unsubscribe: its signed link is the key, no log-in.
    "news.unsubscribe": EVERYONE,
    "manage_series.index": ORGANISERS,
    "manage_series.new": ORGANISERS,
    "manage_series.show": A_EVENT,
    "manage_series.edit": A_EVENT,
    "manage_series.cancel_date": A_EVENT,
    "series.calendar": EVERYONE,
    "attendance.attendees": A_EVENT,
    "attendance.attendees_csv": A_EVENT,
    "attendance.print_list": A_EVENT,
    "attendance.counters": A_EVENT,
    "attendance.kitchen": A_EVENT,
    "attendance.check_in_by_code": A_EVENT,
    "attendance.check_in": A_EVENT,
    "attendance.undo": A_EVENT,
    "attendance.check_in_party": A_EVENT,
    "attendance.undo_party": A_EVENT,
    "attendance.door_payment": A_EVENT,
    "attendance.refund": A_EVENT,
    "attendance.walk_in": A_EVENT,
    "attendance.message": A_EVENT,
    # The cooperative's staff.
    "admin.index": ADMINS,
    "admin.members": ADMINS,
    "admin.members_csv": ADMINS,
    "admin.member": ADMINS,
    "admin.decide": ADMINS,
    "admin.bank_transfer": ADMINS,
    "admin_register.index": ADMINS,
    "admin_register.printable": ADMINS,
    "admin_register.register_csv": ADMINS,
    "admin_register.letters": ADMINS,
    "admin_register.letters_csv": ADMINS,
    "admin_register.entry": ADMINS,
    "admin_register.cancellation": ADMINS,
    "admin_register.end": ADMINS,
    "admin_register.legal_person": ADMINS,
    "admin_register.import_members": ADMINS,
    "admin.plans": ADMINS,
    "admin.plan": ADMINS,
    "admin.domains": ADMINS,
    "admin.domain": ADMINS,
    "admin_audit.index": ADMINS,
    # The share register (issue 15): a member's own shares, the admins' register.
    "shares.index": LOGGED_IN,
    "shares.buy": OWN_SHARES,
    "shares.pay": OWN_SHARES,
    "shares.debit": OWN_SHARES,
    "shares.certificate": OWN_SHARES,
    "shares.share_certificate": OWN_SHARES,
    "admin_shares.index": ADMINS,
    "admin_shares.new_class": ADMINS,
    "admin_shares.share_class": ADMINS,
    "admin_shares.share": ADMINS,
    "admin_shares.repayment": ADMINS,
    "admin_shares.transfer": ADMINS,
    "admin_shares.issue": ADMINS,
    "admin_shares.mark_for_repayment": ADMINS,
    "admin_shares.decide_purchase": ADMINS,
    "admin_shares.record_payment": ADMINS,
    "admin_shares.decide_transfer": ADMINS,
    "admin_shares.register_csv": ADMINS,
    "admin_shares.totals_csv": ADMINS,
    "admin_shares.overview_pdf": ADMINS,
    "admin_collectives.index": ADMINS,
    "admin_collectives.create": ADMINS,
    "admin_collectives.edit": ADMINS,
    "admin_collectives.publish": ADMINS,
    "admin_collectives.unpublish": ADMINS,
    "admin_collectives.add_role": ADMINS,
    "admin_collectives.remove_role": ADMINS,
    "admin_collectives.suggestions": ADMINS,
    "admin_collectives.accept": ADMINS,
    "admin_collectives.reject": ADMINS,
    # Issue 15: dues by direct debit. No run exists in the world: its pages are 404.
    "admin_dues.index": ADMINS,
    "admin_dues.run": ADMINS,
    "admin_dues.submit_stripe": ADMINS,
    "admin_dues.show": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "admin_dues.make_file": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "admin_dues.download": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "admin_dues.all_paid": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "admin_dues.result": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    # Issue 16: general meetings. Members read them (others logged in: 403 "members
    # only", with the title and date); the board and admins manage them. No meeting
    # exists in this world: 404.
    # The public sees that a meeting exists (its title and date) and nothing more.
    "meetings.index": EVERYONE,
    "meetings.show": row(HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "meetings.document": row(LOGIN, NO, HIDDEN, NO, NO, HIDDEN),
    "minutes.show": row(LOGIN, NO, HIDDEN, NO, NO, HIDDEN),
    "minutes.edit": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "minutes.approve": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "minutes.publish": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "minutes.unpublish": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meetings.index": ADMINS,
    "manage_meetings.new": ADMINS,
    "manage_meetings.edit": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meetings.show": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meetings.add_item": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meetings.move_item": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meetings.remove_item": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meetings.upload": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meetings.document": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meetings.remove_document": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meetings.convocation": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meetings.letters": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    # A member's own part: active members only (the admin here is none: 403).
    "meeting_proxies.give": row(LOGIN, NO, HIDDEN, NO, NO, NO),
    "meeting_proxies.withdraw": row(LOGIN, NO, HIDDEN, NO, NO, NO),
    "meeting_proxies.accept": row(LOGIN, NO, HIDDEN, NO, NO, NO),
    "meeting_proxies.decline": row(LOGIN, NO, HIDDEN, NO, NO, NO),
    "meeting_proxies.attend": row(LOGIN, NO, HIDDEN, NO, NO, NO),
    "meeting_proxies.unattend": row(LOGIN, NO, HIDDEN, NO, NO, NO),
    "meeting_proxies.arrive": row(LOGIN, NO, HIDDEN, NO, NO, NO),
    "manage_meeting_proxies.proxies": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_meeting_proxies.attendance": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    # Issue 17: volunteer tasks. No task or slot exists in this world: their pages are
    # 404 for whoever may reach them (tests/test_volunteers_http.py has them with tasks).
    "manage_tasks.index": A_EVENT,
    "manage_tasks.edit": row(LOGIN, NO, NO, HIDDEN, NO, HIDDEN),
    "manage_tasks.remove": row(LOGIN, NO, NO, HIDDEN, NO, HIDDEN),
    "volunteers.signup": row(HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "volunteers.slot": row(HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "volunteers.leave": row(HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "volunteers.leave_own": row(LOGIN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    # Issue 18: questions. Anyone reads them; who acts for an organisation posts (here
    # organiser A, for collective A's organisation); anyone logged in may try to respond
    # (the form refuses an organisation not theirs: 422); programme staff moderate.
    "questions.index": EVERYONE,
    "questions.show": EVERYONE,
    "questions.new": row(LOGIN, NO, NO, OK, NO, NO, NO),
    "questions.respond": LOGGED_IN,
    "questions.hide": PROGRAMME,
    "questions.unhide": PROGRAMME,
    "questions.close": PROGRAMME,
    "questions.reopen": PROGRAMME,
    "questions.koppel": PROGRAMME,
    # The organisations programme staff keep.
    "organisations.index": PROGRAMME,
    "organisations.create": PROGRAMME,
    "organisations.edit": PROGRAMME,
    "organisations.from_collective": PROGRAMME,
    "organisations.add_person": PROGRAMME,
    "organisations.remove_person": PROGRAMME,
    # The votes: members see and cast them on the meeting's pages; the board runs them.
    "meeting_votes.open_votes": row(LOGIN, NO, HIDDEN, NO, NO, HIDDEN),
    "meeting_votes.show": row(LOGIN, NO, HIDDEN, NO, NO, HIDDEN),
    "manage_votes.index": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_votes.add": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_votes.open_vote": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_votes.close_vote": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_votes.remove": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "manage_votes.count": row(LOGIN, NO, NO, NO, NO, HIDDEN),
    "mandate.show": LOGGED_IN,
    "mandate.give": LOGGED_IN,
    "mandate.end": LOGGED_IN,
    "mandate.debit_join": LOGGED_IN,
    # No Stripe configured here: the Stripe route is not offered.
    "mandate.start_stripe": row(LOGIN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    # Issue 18: a collaboration's shared costs. Programme staff and admins run them;
    # organiser A is the contact of a party (A's collective) and sees and pays its share;
    # whoever is in no party of it does not see that it exists.
    "collaboration_costs.index": KOPPEL_CONTACT,
    "collaboration_costs.new_cost": KOPPEL_STAFF,
    "collaboration_costs.edit_cost": KOPPEL_STAFF,
    "collaboration_costs.remove_cost": KOPPEL_STAFF,
    "collaboration_costs.record_transfer": KOPPEL_STAFF,
    "collaboration_costs.pay": row(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, NO, NO),
    # Issue 18: collaborations with the city, their back office and the role.
    "manage_collaborations.index": CONTACT_A,
    "manage_collaborations.new": PROGRAMME,
    "manage_collaborations.show": KOPPEL_CONTACT,
    "manage_collaborations.edit": KOPPEL_STAFF,
    "manage_collaborations.publish": KOPPEL_STAFF,
    "manage_collaborations.unpublish": KOPPEL_STAFF,
    "manage_collaborations.add_party": KOPPEL_STAFF,
    "manage_collaborations.edit_party": KOPPEL_STAFF,
    "manage_collaborations.remove_party": KOPPEL_STAFF,
    "manage_collaborations.link_event": KOPPEL_STAFF,
    "manage_collaborations.unlink_event": KOPPEL_STAFF,
    "manage_commitments.add": KOPPEL_STAFF,
    "manage_commitments.edit": KOPPEL_STAFF,
    "manage_commitments.remove": KOPPEL_STAFF,
    "manage_commitments.remove_progress": KOPPEL_STAFF,
    # Progress on the contact's own party's commitment.
    "manage_commitments.progress": KOPPEL_CONTACT,
    "admin_programme.index": ADMINS,
    "admin_programme.remove": ADMINS,
    # Stripe's webhook: no Stripe configured here, so it refuses everyone alike.
    "payments.stripe_webhook": row(HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
}

# The least a form needs to get past its first check (else only the CSRF token is sent).
FORMS = {
    "admin.decide": {"action": "approve"},
    "admin_shares.decide_purchase": {"action": "approve"},
    "admin_shares.decide_transfer": {"action": "refuse"},
}

# Requests that change the world for the requests after them go last, in this order.
RUN_LAST = (
    "manage_commitments.remove",  # after its progress update is removed
    "registrations.cancel",
    "attendance.refund",
    "manage.cancel_event",
    "manage_series.cancel_date",
    "admin_collectives.remove_role",
    "admin_collectives.unpublish",
    "collaboration_costs.remove_cost",
    "account.delete",
    "auth.logout",
)


def build_world(app: Flask) -> SimpleNamespace:
    """Everything the routes' URLs point at, saved; ids and tokens returned."""
    with app.app_context():
        collective_a = make_collective("zonnedak", "Zonnedak")
        collective_b = make_collective("voedselbank", "Voedselbank")
        organiser_a = make_organiser(collective_a, email="organiser.a@example.org")
        organiser_b = make_organiser(collective_b, email="organiser.b@example.org")
        admin = make_admin()
        programme = make_user(
            email="programme@example.org", name="Pim Programme", is_programme_staff=True
        )
        plan = make_plan()
        member = make_member(email="member@example.org", plan=plan)
        member.calendar_token = "member-calendar-token"
        member.pending_email = "member.new@example.org"
        guest = make_user(email="guest@example.org", name="Gina Guest")
        newcomer = make_user(email="newcomer@example.org", name="Nico New", confirmed=False)
        event = make_event(collective_id=collective_a.id, meals=[{"name": "Diner"}])
        dinner = event.meal_options[0].id
        party = make_registration(
            event,
            [PersonChoice("Gina", dinner), PersonChoice("Bob", dinner)],
            email=guest.email,
            user=guest,
        )
        make_registration(event, ["Carla"], email="carla@example.org")
        member_membership = db.session.scalar(
            sa.select(Membership).where(Membership.user_id == member.id)
        )
        share_class = ShareClass(slug="extra", name_nl="Extra", name_en="Extra", amount_cents=10000)
        db.session.add(share_class)
        db.session.flush()
        purchase = shares.buy(member_membership, share_class, 1)
        transfer = ShareTransfer(
            share=purchase.shares[0],
            from_membership_id=member_membership.id,
            to_membership_id=member_membership.id,
        )
        db.session.add(transfer)
        # Issue 18: the city (with an official who acts for it) asks a question; collective
        # A is an organisation too, so organiser A acts for it.
        city = make_organisation(people=[make_user(email="official@example.org")])
        zonnedak = organisation_of(collective_a)
        question = make_question(city)
        suggestion = CollectiveSuggestion(
            name="Repair Café Oost", contact_email="repair@example.org", reason="Fixing things"
        )
        db.session.add(suggestion)
        member.profile.newsletter = True
        member.profile.followed_collectives = [collective_a]
        announcement = announcements.send(
            organiser_a,
            announcements.Audience(AudienceKind.COLLECTIVE, collective_a),
            "Nieuws van Zonnedak",
            "Tekst",
            "nl",
        )
        db.session.commit()
        collaboration = make_collaboration(parties=[(zonnedak, organiser_a), city])
        cost = collaboration_costs.save_cost(
            collaboration, CostDetails("Projectleider", 10000, False, CostSplit.EQUAL)
        )
        commitment = make_commitment(collaboration.parties[0])
        update = make_progress(commitment, 90, date(2026, 2, 1))
        event.collaboration_id = collaboration.id
        db.session.commit()
        with app.test_request_context():
            series = make_series(collective_a.id, date.today() + timedelta(days=7))
        series_day = min(series_service.existing_dates(series))
        return SimpleNamespace(
            series_id=series.id,
            series_day=series_day.isoformat(),
            announcement_id=announcement.id,
            unsubscribe_token=unsubscribe.token_for_user(member),
            users={
                "guest": guest.id,
                "member": member.id,
                "organiser_a": organiser_a.id,
                "organiser_b": organiser_b.id,
                "admin": admin.id,
                "programme": programme.id,
            },
            collaboration_id=collaboration.id,
            cost_id=cost.id,
            share_id=cost.shares[0].id,
            party_id=collaboration.parties[0].id,
            commitment_id=commitment.id,
            update_id=update.id,
            question_id=question.id,
            organisation_id=city.id,
            person_id=city.people[0].id,
            event_id=event.id,
            event_slug=event.slug,
            collective_id=collective_a.id,
            collective_slug=collective_a.slug,
            role_id=db.session.scalar(
                sa.select(CollectiveRole.id).where(CollectiveRole.user_id == organiser_a.id)
            ),
            registration_id=party.id,
            attendee_id=party.attendees[0].id,
            token=party.token,
            ticket=party.attendees[0].ticket,
            membership_id=db.session.scalar(
                sa.select(Membership.id).where(Membership.user_id == member.id)
            ),
            plan_id=plan.id,
            plan_slug=plan.slug,
            domain_id=collective_a.primary_domain_id,
            suggestion_id=suggestion.id,
            share_class_id=share_class.id,
            purchase_id=purchase.id,
            number=purchase.shares[0].number,
            transfer_id=transfer.id,
            member_id=member.id,
            calendar_token=member.calendar_token,
            confirm_token=accounts.make_confirm_token(newcomer),
            reset_token=accounts.make_reset_token(member),
            email_change_token=privacy._serializer("email-change").dumps(
                {
                    "id": member.id,
                    "email": member.pending_email,
                    "fp": accounts._fingerprint(member.email),
                }
            ),
        )


def url_values(endpoint: str, arguments, world) -> dict:
    """The URL arguments of `endpoint`, from the world."""
    slugs = {
        "collectives": world.collective_slug,
        "public": world.plan_slug,
        "embed.collective_events": world.collective_slug,
        "embed.domain_events": "energie",  # make_collective's domain (make_domain's default)
    }
    tokens = {
        "auth.confirm": world.confirm_token,
        "auth.reset_password": world.reset_token,
        "account.confirm_email_change": world.email_change_token,
        "account.calendar_feed": world.calendar_token,
        "news.unsubscribe": world.unsubscribe_token,
    }
    values = {
        "event_id": world.event_id,
        "attendee_id": world.attendee_id,
        "registration_id": world.registration_id,
        "membership_id": world.membership_id,
        "plan_id": world.plan_id,
        "domain_id": world.domain_id,
        "collective_id": world.collective_id,
        "role_id": world.role_id,
        "suggestion_id": world.suggestion_id,
        "collaboration_id": world.collaboration_id,
        "cost_id": world.cost_id,
        "share_id": world.share_id,  # organiser A's party's share
        "question_id": world.question_id,
        "organisation_id": world.organisation_id,
        "person_id": world.person_id,
        "run_id": 1,  # issue 15: no dues run in this world
        "meeting_id": 1,  # issue 16: no meeting either
        "series_id": world.series_id,
        "announcement_id": world.announcement_id,
        "value": world.series_day,
        "item_id": 1,
        "proxy_id": 1,
        "document_id": 1,
        "task_id": 1,  # issue 17: no volunteer task either
        "signup_id": 1,
        "vote_id": 1,
        "collection_id": 1,
        "share_class_id": world.share_class_id,
        "purchase_id": world.purchase_id,
        "number": world.number,
        "transfer_id": world.transfer_id,
        "party_id": world.party_id,
        "commitment_id": world.commitment_id,
        "update_id": world.update_id,
        "lang": "nl",
        "user_id": world.member_id,
        "ticket": world.ticket,
        "name": "neighbourhood",
        "slug": slugs.get(endpoint, slugs.get(endpoint.split(".")[0], world.event_slug)),
        "token": tokens.get(endpoint, world.token),
    }
    missing = set(arguments) - set(values)
    assert not missing, f"{endpoint}: no value for {missing}"
    return {name: values[name] for name in arguments}


def requests_of(app: Flask, world) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every rule and method, GETs first, RUN_LAST last."""
    calls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.build(url_values(rule.endpoint, rule.arguments, world), append_unknown=False)
        path = path[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            calls.append((rule.endpoint, method, path))

    def order(call):
        endpoint, method, path = call
        last = RUN_LAST.index(endpoint) if endpoint in RUN_LAST else -1
        return (last, method != "GET", endpoint, path)

    return sorted(calls, key=order)


def outcome(response) -> str:
    """The answer sorted into OK, LOGIN, NO, HIDDEN or BAD (else the bare status)."""
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        target = urlsplit(response.headers["Location"]).path
        return LOGIN if target == "/auth/login" else OK
    if status in (200, 204, 422):
        return OK
    return {403: NO, 404: HIDDEN, 400: BAD}.get(status, str(status))


def act_as(client, user_id: int | None) -> None:
    """Log `client` in as `user_id` (or out) without a password round trip."""
    with client.session_transaction() as session:
        for key in ("_user_id", "_fresh", "_id"):
            session.pop(key, None)
        if user_id is not None:
            with client.application.app_context():
                session["_user_id"] = db.session.get(User, user_id).get_id()
            session["_fresh"] = True


def test_every_route_has_a_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    assert set(EXPECTED) == endpoints
    assert set(RUN_LAST) <= endpoints


@pytest.mark.parametrize("role", ROLES)
def test_each_route_answers_each_role_as_the_table_says(app, role):
    world = build_world(app)
    client = app.test_client()
    token = csrf_token(client)
    user_id = world.users.get(role)
    mismatches = []
    checked = 0
    for endpoint, method, path in requests_of(app, world):
        act_as(client, user_id)
        if method == "GET":
            response = client.get(path)
        else:
            response = client.open(
                path, method=method, data={"csrf_token": token, **FORMS.get(endpoint, {})}
            )
        expected = EXPECTED[endpoint]
        if set(expected) != set(ROLES):  # {method: row}
            expected = expected[method]
        got = outcome(response)
        checked += 1
        if got != expected[role]:
            mismatches.append(f"{method} {path} ({endpoint}): {got}, expected {expected[role]}")
    assert not mismatches, "\n".join(mismatches)
    assert checked == len(requests_of(app, world))


TOKEN_ROUTES = (
    "registrations.manage",
    "registrations.edit",
    "registrations.cancel",
    "registrations.forget",
    "registrations.pay",
    "registrations.ticket",
    "account.calendar_feed",
    "account.confirm_email_change",
    "auth.confirm",
    "auth.reset_password",
)


@pytest.mark.parametrize("role", ("anonymous", "admin"))
def test_a_forged_private_link_is_hidden_from_everyone(app, role):
    world = build_world(app)
    client = app.test_client()
    token = csrf_token(client)
    act_as(client, world.users.get(role))
    before = world_state(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in TOKEN_ROUTES:
            continue
        forged = {"token": "forged-" + world.token[7:], "ticket": "forged-" + world.ticket[7:]}
        path = rule.build(forged, append_unknown=False)[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, data={"csrf_token": token})
            checked += 1
            assert response.status_code == 404, f"{method} {path}"
    assert checked == 16
    assert world_state(app) == before


def world_state(app) -> dict:
    """What a request could change about people's registrations and accounts."""
    with app.app_context():
        return {
            "checked in": db.session.scalar(
                sa.select(sa.func.count(Attendee.id)).where(Attendee.checked_in_at.is_not(None))
            ),
            "attendees": sorted(
                db.session.execute(sa.select(Attendee.id, Attendee.name, Attendee.cancelled_at))
            ),
            "registrations": sorted(
                db.session.execute(sa.select(Registration.id, Registration.status))
            ),
            "payments": db.session.scalar(sa.select(sa.func.count(Payment.id))),
            "users": sorted(db.session.execute(sa.select(User.id, User.email, User.name))),
        }


def test_an_organiser_cannot_reach_other_peoples_parties_through_their_own_event(app):
    """Organiser B on B's own event, with the ids of A's guest: 404, nothing changes."""
    world = build_world(app)
    with app.app_context():
        own_event = make_event("voedselmarkt", "Voedselmarkt", collective_id=None)
        own_event.collective_id = db.session.scalar(
            sa.select(CollectiveRole.collective_id).where(
                CollectiveRole.user_id == world.users["organiser_b"]
            )
        )
        db.session.commit()
        own_event_id = own_event.id
    client = app.test_client()
    token = csrf_token(client)
    act_as(client, world.users["organiser_b"])
    before = world_state(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "attendance" or not (
            {"attendee_id", "registration_id"} & rule.arguments
        ):
            continue
        values = url_values(rule.endpoint, rule.arguments, world) | {"event_id": own_event_id}
        path = rule.build(values, append_unknown=False)[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, data={"csrf_token": token, "amount": "10"})
            assert response.status_code == 404, f"{method} {path}"
            checked += 1
    assert checked == 8
    assert world_state(app) == before
