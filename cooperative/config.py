"""Settings from environment variables, with safe defaults for development.

A `.env` file in the project folder is read first (python-dotenv); real environment
variables win over it.
"""

import os
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - refused in production

load_dotenv(PROJECT_ROOT / ".env")


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{Path(instance_path) / 'cooperative.sqlite'}"
    # Accept the URLs hosting providers hand out and use psycopg 3 for them.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


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
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "MeentCoop <noreply@meentcoop.example>"),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", ""),
        "STRIPE_PAYMENT_METHODS": [
            method.strip()
            for method in os.environ.get("STRIPE_PAYMENT_METHODS", "ideal,card").split(",")
            if method.strip()
        ],
        "STRIPE_TIMEOUT_SECONDS": float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "15")),
        # How long unpaid seats are held: while paying online, and after a promotion.
        "PAYMENT_HOLD_MINUTES": int(os.environ.get("PAYMENT_HOLD_MINUTES", "30")),
        "PROMOTION_HOLD_HOURS": int(os.environ.get("PROMOTION_HOLD_HOURS", "24")),
        # Yearly memberships: the reminder before the end, the grace after it.
        "MEMBERSHIP_REMINDER_DAYS": int(os.environ.get("MEMBERSHIP_REMINDER_DAYS", "14")),
        "MEMBERSHIP_GRACE_DAYS": int(os.environ.get("MEMBERSHIP_GRACE_DAYS", "30")),
        # Guests' names and addresses are removed this many days after their event.
        "GUEST_DATA_DAYS": int(os.environ.get("GUEST_DATA_DAYS", "90")),
        # Public pages kept in memory for visitors who are not logged in (page_cache.py):
        # the memory each process may use (0: off), how old a kept page may get, and how
        # often a process asks the database whether another one changed what they show.
        "PAGE_CACHE_BYTES": int(os.environ.get("PAGE_CACHE_MB", "8")) * 1024 * 1024,
        "PAGE_CACHE_SECONDS": int(os.environ.get("PAGE_CACHE_SECONDS", "60")),
        "PAGE_CACHE_CHECK_MS": int(os.environ.get("PAGE_CACHE_CHECK_MS", "100")),
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
        # Admins must log in with an authenticator app's code before any /admin page works.
        "REQUIRE_ADMIN_2FA": _flag("REQUIRE_ADMIN_2FA", production),
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "cooperative" / "translations"),
        "WTF_CSRF_TIME_LIMIT": None,
    }
