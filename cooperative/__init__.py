"""The cooperative's site: membership, events with meals, and a directory of collectives."""

from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    cli,
    errors,
    i18n,
    locking,
    money,
    page_cache,
    performance,
    request_limits,
    security,
)
from .config import PROJECT_ROOT, from_environment
from .extensions import babel, csrf, db, htmx, limiter, login_manager
from .ids import RowIdConverter
from .services import stripe_calls


def create_app(config: dict | None = None, *, migrations: bool = True) -> Flask:
    """Build the app: settings (environment, then `config`), extensions, blueprints, CLI.

    `migrations=False` leaves out Flask-Migrate (`flask db ...`): a serving process
    (wsgi.py) never migrates, and Alembic would cost each worker 11 MB of memory.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(from_environment(app.instance_path))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    db.init_app(app)
    locking.init_app(app)  # SQLite: writers queue for the write lock (busy timeout)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            sa.event.listen(db.engine, "connect", _write_ahead_log)
    if migrations:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    htmx.init_app(app)
    limiter.init_app(app)

    from .views import (
        account,
        account_register,
        admin,
        admin_audit,
        admin_collectives,
        admin_dues,
        admin_programme,
        admin_register,
        admin_shares,
        announcements,
        api,
        attendance,
        auth,
        collaboration_costs,
        collaborations,
        collectives,
        embed,
        events,
        feeds,
        manage,
        manage_collaborations,
        manage_commitments,
        manage_meeting_proxies,
        manage_meetings,
        manage_series,
        manage_tasks,
        manage_votes,
        mandate,
        meeting_proxies,
        meeting_votes,
        meetings,
        members,
        minutes,
        news,
        organisations,
        payments,
        public,
        questions,
        registrations,
        series,
        shares,
        two_factor,
        volunteers,
    )

    app.url_map.converters["int"] = RowIdConverter
    for blueprint in (
        public.bp,
        auth.bp,
        account.bp,
        account_register.bp,
        admin.bp,
        admin_register.bp,
        events.bp,
        feeds.bp,  # /events.rss, /events.atom
        embed.bp,  # /embed/...: the only framable pages
        registrations.bp,
        collectives.bp,
        collaborations.bp,  # /collaborations, /collaborations.atom
        admin_collectives.bp,
        admin_audit.bp,
        manage.bp,
        meetings.bp,  # /meetings
        manage_meetings.bp,  # /manage/meetings
        meeting_proxies.bp,  # /meetings/<slug>/proxy..., /attendance, /arrive
        manage_meeting_proxies.bp,  # /manage/meetings/<id>/proxies, /attendance
        meeting_votes.bp,  # /meetings/<slug>/votes
        manage_votes.bp,  # /manage/meetings/<id>/votes
        manage_series.bp,  # /manage/series
        series.bp,  # /events/series/<id>.ics
        minutes.bp,  # /manage/meetings/<id>/minutes, /meetings/<slug>/minutes
        members.bp,
        attendance.bp,
        api.bp,
        payments.bp,
        two_factor.bp,
        mandate.bp,  # /account/mandate
        admin_dues.bp,  # /admin/dues
        shares.bp,
        admin_shares.bp,
        volunteers.bp,  # signing up for an event's tasks
        manage_tasks.bp,  # /manage/events/<id>/tasks
        announcements.bp,  # /manage/announcements
        news.bp,  # /news/unsubscribe/<token>: the one-click unsubscribe
        collaboration_costs.bp,  # /manage/collaborations/<id>/costs
        manage_collaborations.bp,  # /manage/collaborations
        manage_commitments.bp,  # /manage/collaborations/<id>/commitments...
        admin_programme.bp,  # /admin/programme-staff
        questions.bp,  # /questions: vraagstukken from the city and the collectives
        organisations.bp,  # /manage/organisations: programme staff
    ):
        app.register_blueprint(blueprint)

    i18n.init_app(app)
    money.init_app(app)
    request_limits.init_app(app)
    security.init_app(app)
    performance.init_app(app)
    page_cache.init_app(app)
    cli.init_app(app)
    stripe_calls.init_app(app)
    errors.init_app(app)  # last: see its docstring
    return app


def _write_ahead_log(connection, record) -> None:
    """SQLite in WAL mode: readers never wait for a writer, and a commit syncs one file."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@login_manager.user_loader
def load_user(session_id: str):
    """The logged-in account, while its session key holds (`accounts.user_for_session`)."""
    from .services.accounts import user_for_session

    return user_for_session(session_id)
