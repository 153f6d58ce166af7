"""With RATELIMIT_STORAGE_URI on Redis, several worker processes share one log-in limit."""

import os
import secrets
import subprocess
import sys

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/15"

WORKER = """
import sys
from cooperative import create_app
app = create_app({
    "SQLALCHEMY_DATABASE_URI": sys.argv[1],
    "RATELIMIT_STORAGE_URI": sys.argv[2],
    "RATELIMIT_KEY_PREFIX": sys.argv[3],
    "LOGIN_RATE_LIMIT": "3 per minute",
    "WTF_CSRF_ENABLED": False,
})
client = app.test_client()
data = {"email": "nobody@example.org", "password": "wrong password"}
print(" ".join(str(client.post("/auth/login", data=data).status_code) for _ in range(2)))
"""


def redis_available() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(
    not redis_available() and not os.environ.get("CI"), reason="no Redis on 127.0.0.1:6379"
)
def test_two_processes_share_the_login_limit(app, database_url):
    prefix = f"test-{secrets.token_hex(4)}"

    def worker() -> str:
        result = subprocess.run(
            [sys.executable, "-c", WORKER, database_url, REDIS_URL, prefix],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip().splitlines()[-1]

    try:
        assert worker() == "422 422"
        assert worker() == "422 429"  # the third attempt in a minute, counted across processes
    finally:
        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter(f"{prefix}*"):
            store.delete(key)
