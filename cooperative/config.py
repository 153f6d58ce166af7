"""Settings from environment variables, with safe defaults for development.

A `.env` file in the project folder is read first (python-dotenv); real environment
variables win over it.
"""

import os
from datetime import date, timedelta
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The cooperative's time zone (BABEL_DEFAULT_TIMEZONE); the worker's schedules, made
# before any app, read it here.
TIME_ZONE = "Europe/Amsterdam"
DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - refused in production

load_dotenv(PROJECT_ROOT / ".env")


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


ADMISSION_ORDERS = ("pay-then-approve", "approve-then-pay")


def admission_order() -> str:
    """MEMBERSHIP_ADMISSION_ORDER, checked: one of ADMISSION_ORDERS."""
    value = os.environ.get("MEMBERSHIP_ADMISSION_ORDER", ADMISSION_ORDERS[0]).strip()
    if value not in ADMISSION_ORDERS:
        raise RuntimeError(f"MEMBERSHIP_ADMISSION_ORDER must be one of {ADMISSION_ORDERS}")
    return value


def financial_year_end() -> str:
    """FINANCIAL_YEAR_END as MM-DD (default 12-31), checked to be a day of the year."""
    value = os.environ.get("FINANCIAL_YEAR_END", "12-31").strip()
    try:
        date.fromisoformat(f"2023-{value}")
    except ValueError as error:
        raise RuntimeError(f"FINANCIAL_YEAR_END is not a day like 12-31: {value}") from error
    return value


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{Path(instance_path) / 'cooperative.sqlite'}"
    # Accept the URLs hosting providers hand out and use psycopg 3 for them.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def base_url() -> str:
    """The site's address for links in e-mails: `BASE_URL`, or else the address the
    development server listens on (`FLASK_RUN_HOST`, `FLASK_RUN_PORT`, which `make run
    HOST=... PORT=...` sets), so a link follows the port. A wildcard host (0.0.0.0, ::)
    is no address to click, so it becomes 127.0.0.1."""
    configured = os.environ.get("BASE_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    host = os.environ.get("FLASK_RUN_HOST", "").strip() or "127.0.0.1"
    port = os.environ.get("FLASK_RUN_PORT", "").strip() or "5000"
    if host in {"0.0.0.0", "::", "[::]"}:  # noqa: S104 - a listening address, not a bind
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{port}"


def bank_iban() -> str:
    """The cooperative's IBAN for membership fees paid by bank transfer (`BANK_IBAN`),
    written in groups of four; empty when not set.

    Refuses (RuntimeError) an IBAN whose country, length or check digits are wrong
    (checked by schwifty), so a typo never reaches a member who pays.
    """
    value = os.environ.get("BANK_IBAN", "").strip()
    if not value:
        return ""
    from schwifty import IBAN  # only when set: its bank registry costs memory

    try:
        return IBAN(value).formatted
    except ValueError as error:
        raise RuntimeError(f"BANK_IBAN is not a valid IBAN: {error}") from error


def sepa_creditor_id() -> str:
    """The cooperative's SEPA creditor identifier (`SEPA_CREDITOR_ID`), compact;
    empty when not set. Refuses (RuntimeError) one whose shape or check digits are wrong."""
    value = os.environ.get("SEPA_CREDITOR_ID", "").strip()
    if not value:
        return ""
    from .sepa_ids import InvalidIdentifier, checked_creditor_id

    try:
        return checked_creditor_id(value)
    except InvalidIdentifier as error:
        raise RuntimeError(
            f"SEPA_CREDITOR_ID is not a valid creditor identifier: {error}"
        ) from error


def from_environment(instance_path: str) -> dict:
    """Return the app's settings read from the environment.

    Refuses (RuntimeError) to run in production (`COOP_ENV=production`) with the
    development secret key.
    """
    env = os.environ.get("COOP_ENV", "development")
    production = env == "production"
    secret_key = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    if production and secret_key == DEV_SECRET_KEY:
        raise RuntimeError("COOP_ENV=production needs a SECRET_KEY of its own.")
    return {
        "COOP_ENV": env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # werkzeug's method for password hashes (the tests choose a cheap pbkdf2).
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        "BASE_URL": base_url(),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "MeentCoop <noreply@meentcoop.example>"),
        # Where members transfer their fee: shown on the account page and e-mailed.
        "BANK_IBAN": bank_iban(),
        "BANK_ACCOUNT_NAME": os.environ.get("BANK_ACCOUNT_NAME", "").strip(),
        # Dues by SEPA direct debit: who collects (name, creditor identifier,
        # BIC of BANK_IBAN if the bank wants it) and how many days ahead members are told.
        "SEPA_CREDITOR_NAME": os.environ.get(
            "SEPA_CREDITOR_NAME", os.environ.get("BANK_ACCOUNT_NAME", "MeentCoop")
        ).strip(),
        "SEPA_CREDITOR_ID": sepa_creditor_id(),
        "SEPA_CREDITOR_BIC": os.environ.get("SEPA_CREDITOR_BIC", "").strip(),
        "SEPA_PRENOTIFICATION_DAYS": int(os.environ.get("SEPA_PRENOTIFICATION_DAYS", "14")),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", ""),
        "STRIPE_PAYMENT_METHODS": [
            method.strip()
            for method in os.environ.get("STRIPE_PAYMENT_METHODS", "ideal,card").split(",")
            if method.strip()
        ],
        "STRIPE_TIMEOUT_SECONDS": float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "15")),
        # How long a request waits for an event someone else has locked (locking.py)
        # before it answers "busy, try again": on PostgreSQL the event's row; on SQLite
        # the database's one write lock, which every writer queues for.
        "LOCK_TIMEOUT_SECONDS": float(os.environ.get("LOCK_TIMEOUT_SECONDS", "3")),
        "SQLITE_BUSY_TIMEOUT_SECONDS": float(os.environ.get("SQLITE_BUSY_TIMEOUT_SECONDS", "30")),
        # How long unpaid seats are held: while paying online, and after a promotion.
        "PAYMENT_HOLD_MINUTES": int(os.environ.get("PAYMENT_HOLD_MINUTES", "30")),
        "PROMOTION_HOLD_HOURS": int(os.environ.get("PROMOTION_HOLD_HOURS", "24")),
        # Yearly memberships: the reminder before the end, the grace after it.
        "MEMBERSHIP_REMINDER_DAYS": int(os.environ.get("MEMBERSHIP_REMINDER_DAYS", "14")),
        "MEMBERSHIP_GRACE_DAYS": int(os.environ.get("MEMBERSHIP_GRACE_DAYS", "30")),
        # The member register (services/register.py): a cancellation takes effect this many
        # weeks after it was received and then, when LEAVE_AT_YEAR_END is on, at the end of
        # the financial year (month-day); entries are kept this many years after leaving.
        "MEMBERSHIP_NOTICE_WEEKS": int(os.environ.get("MEMBERSHIP_NOTICE_WEEKS", "4")),
        "MEMBERSHIP_LEAVE_AT_YEAR_END": _flag("MEMBERSHIP_LEAVE_AT_YEAR_END", True),
        # Also when a leaving member's shares are repaid (after the end of that year).
        "FINANCIAL_YEAR_END": financial_year_end(),
        "REGISTER_KEEP_YEARS": int(os.environ.get("REGISTER_KEEP_YEARS", "10")),
        # An ended SEPA mandate and its collections are kept this many years after the
        # mandate ended and after its last debit (the fiscal retention duty for the books,
        # art. 52 AWR and art. 2:10 BW: 7 years), then deleted by `coop purge`.
        "MANDATE_KEEP_YEARS": int(os.environ.get("MANDATE_KEEP_YEARS", "7")),
        # Joining: "pay-then-approve" (the board decides on paid applications) or
        # "approve-then-pay" (the board decides first, then the member pays), as the
        # statutes say. A member is admitted once both happened.
        "MEMBERSHIP_ADMISSION_ORDER": admission_order(),
        # How long after an online payment its shares are refunded through Stripe when
        # repaid; later, or paid otherwise, the admin repays by bank transfer.
        "SHARE_REFUND_WINDOW_DAYS": int(os.environ.get("SHARE_REFUND_WINDOW_DAYS", "180")),
        # Guests' names and addresses are removed this many days after their event.
        "GUEST_DATA_DAYS": int(os.environ.get("GUEST_DATA_DAYS", "90")),
        # What a former member filled in is removed this long after they left (two years).
        "FORMER_MEMBER_DATA_DAYS": int(os.environ.get("FORMER_MEMBER_DATA_DAYS", "730")),
        # E-mails sent (or given up on) are deleted from the outbox this many days after.
        "OUTBOX_KEEP_DAYS": int(os.environ.get("OUTBOX_KEEP_DAYS", "30")),
        # Announcements leave the outbox at most this many mails a minute (the mail
        # server's and the receiving providers' limits); who got one is forgotten this
        # many days after it was sent, how many stays.
        "NEWS_PER_MINUTE": max(1, int(os.environ.get("NEWS_PER_MINUTE", "60"))),
        "NEWS_RECIPIENTS_DAYS": int(os.environ.get("NEWS_RECIPIENTS_DAYS", "90")),
        # Public pages kept in memory for visitors who are not logged in (page_cache.py):
        # the memory each process may use (0: off), how old a kept page may get, and how
        # often a process asks the database whether another one changed what they show.
        "PAGE_CACHE_BYTES": int(os.environ.get("PAGE_CACHE_MB", "8")) * 1024 * 1024,
        "PAGE_CACHE_SECONDS": int(os.environ.get("PAGE_CACHE_SECONDS", "60")),
        "PAGE_CACHE_CHECK_MS": int(os.environ.get("PAGE_CACHE_CHECK_MS", "100")),
        # The general meeting: the default notice period (days between sending
        # the convocation and the meeting; the statutes may ask more, never less than
        # the 7 days of art. 2:42 BW for a change of the statutes), the default number of
        # proxies a member may carry, where agenda documents are kept (a folder; empty:
        # in the database) and how large one may be.
        "MEETING_NOTICE_DAYS": int(os.environ.get("MEETING_NOTICE_DAYS", "14")),
        "MEETING_MAX_PROXIES": int(os.environ.get("MEETING_MAX_PROXIES", "1")),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", "").strip(),
        "MEETING_DOCUMENT_MAX_BYTES": int(
            os.environ.get("MEETING_DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024))
        ),
        # The largest request body accepted (bytes); a larger one is refused with 413.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # How many reverse proxies stand before the app: their X-Forwarded-* headers are
        # believed that far, so rate limits and logs see each visitor's own address.
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute; 50 per hour"),
        "RESET_RATE_LIMIT": os.environ.get("RESET_RATE_LIMIT", "5 per minute; 20 per hour"),
        "SUGGESTION_RATE_LIMIT": os.environ.get("SUGGESTION_RATE_LIMIT", "5 per hour"),
        "SIGNUP_RATE_LIMIT": os.environ.get("SIGNUP_RATE_LIMIT", "10 per minute; 50 per hour"),
        # Higher: a community centre's wifi puts many residents behind one address.
        "REGISTRATION_RATE_LIMIT": os.environ.get(
            "REGISTRATION_RATE_LIMIT", "20 per minute; 200 per hour"
        ),
        # /healthz answers 503 until a worker (`coop worker`) ticks; a worker that stopped
        # ticking makes it 503 either way.
        "WORKER_REQUIRED": _flag("WORKER_REQUIRED", production),
        # Admins must log in with an authenticator app's code before any /admin page works.
        "REQUIRE_ADMIN_2FA": _flag("REQUIRE_ADMIN_2FA", production),
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        # How long "remember me" keeps a device logged in (each log-in starts it anew).
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(os.environ.get("REMEMBER_DAYS", "30"))),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "BABEL_DEFAULT_LOCALE": "nl",
        # The cooperative's one time zone: pages, mails, calendar files and the API
        # (i18n.local_zone reads it through Flask-Babel), and the worker's schedules.
        "BABEL_DEFAULT_TIMEZONE": TIME_ZONE,
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "cooperative" / "translations"),
        "WTF_CSRF_TIME_LIMIT": None,
        # Where a form comes from is checked in one place, security.refuse_other_sites, over
        # http and https alike (Flask-WTF's own check is for https only and refuses a form
        # without a Referer, which privacy settings strip).
        "WTF_CSRF_SSL_STRICT": False,
    }
