"""The load benchmark (`make bench`): seed a big cooperative, serve it with gunicorn, drive it
with wrk, print the table and write it to bench/results/ as JSON and Markdown.

Settings (environment): BENCH_SECONDS per scenario (10), BENCH_CONNECTIONS (16),
BENCH_WORKERS (the number of cores), BENCH_DATABASE_URL (a PostgreSQL server: a fresh
database is made there and dropped afterwards; without it, a SQLite file in a temporary
folder), BENCH_ONLY (comma-separated scenario names, to try one quickly).
See bench/README.md.
"""

import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH = PROJECT_ROOT / "bench"
RESULTS = BENCH / "results"
sys.path.insert(0, str(PROJECT_ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import seed as seeding  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARM_UP_SECONDS = 2
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2)))
ONLY = {name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()}
BROWSER_ENCODING = "zstd, br, gzip"
# A form's token, as WTForms writes it or by hand.
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
PUBLIC = {"home", "events", "event", "directory", "api"}

# Targets from issue 9.
PUBLIC_SHARE = 0.40
ATTENDANCE_P50_MS = 150
CHECKIN_P99_MS = 50
REGISTER_PER_SECOND = 150
MAX_QUERIES = 8
MAX_WORKER_MB = 100
MAX_FIRST_VISIT_KB = 40


@dataclass
class Result:
    name: str
    what: str
    requests_per_second: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    share_of_ceiling: float | None = None
    sql_queries: int | None = None
    worker_mb: float = 0.0
    errors: int = 0
    requests: int = 0
    target: str = ""
    met: bool | None = None
    notes: list[str] = field(default_factory=list)


# --- HTTP with the standard library -------------------------------------------------------


def fetch(port: int, method: str, path: str, headers=None, body: bytes | None = None):
    """One request; returns (status, headers as a dict of lists, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        found: dict[str, list[str]] = {}
        for key, value in response.getheaders():
            found.setdefault(key.lower(), []).append(value)
        return response.status, found, data
    finally:
        connection.close()


def session_cookie(headers: dict, fallback: str = "") -> str:
    for value in headers.get("set-cookie", []):
        if value.startswith("session="):
            return value.split(";", 1)[0]
    return fallback


def csrf_in(html: bytes) -> str:
    match = CSRF_RE.search(html.decode())
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


# --- Processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_wrk() -> str:
    """wrk from Debian's package; installed with apt-get when missing (as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing: install it with `sudo apt-get install wrk`, then run again.")
    print("Installing wrk (apt-get) ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=False)  # noqa: S603, S607
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)  # noqa: S603, S607
    return shutil.which("wrk") or sys.exit("apt-get did not install wrk.")


class Gunicorn:
    """gunicorn on 127.0.0.1 with the benchmark's settings, for the site or the hello app."""

    def __init__(self, target: str, env: dict) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(WORKERS),
                "--backlog",
                "2048",
                "--log-level",
                "warning",
                target,
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            start_new_session=True,
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn stopped at start")
            try:
                fetch(self.port, "GET", "/")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within a minute")

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                pids.append(int(entry.name))
        return pids

    def worker_mb(self) -> float:
        """The largest resident memory of one worker, in MB (from /proc)."""
        largest = 0
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        largest = max(largest, int(line.split()[1]))
            except OSError:
                continue
        return round(largest / 1024, 1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_wrk(
    wrk: str,
    port: int,
    path: str,
    script: str,
    args=(),
    headers=(),
    connections=CONNECTIONS,
    warm_up=True,
) -> dict:
    """Drive `path` for SECONDS with `connections`; return the numbers report.lua printed.
    With `warm_up` (reading only), first for WARM_UP_SECONDS that do not count: the
    connections opened, the templates compiled, the statements prepared."""
    for seconds in (WARM_UP_SECONDS, SECONDS) if warm_up else (SECONDS,):
        command = [
            wrk,
            "-t",
            str(min(2, connections)),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            script,
        ]
        for header in headers:
            command += ["-H", header]
        command.append(f"http://127.0.0.1:{port}{path}")
        if args:
            command += ["--", *args]
        output = subprocess.run(  # noqa: S603 - our own command line
            command, cwd=BENCH / "wrk", capture_output=True, text=True, check=True
        ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    return json.loads(line.removeprefix("BENCH_JSON "))


def fill(result: Result, numbers: dict) -> Result:
    seconds = numbers["duration_us"] / 1e6
    result.requests = numbers["requests"]
    result.requests_per_second = round(numbers["requests"] / seconds, 1)
    result.p50_ms = round(numbers["p50_us"] / 1000, 1)
    result.p99_ms = round(numbers["p99_us"] / 1000, 1)
    result.errors = sum(
        numbers[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return result


# --- The database -------------------------------------------------------------------------


class Database:
    """A fresh database: SQLite in a temporary folder, or a new one on BENCH_DATABASE_URL."""

    def __init__(self) -> None:
        self.server_url = os.environ.get("BENCH_DATABASE_URL", "")
        self.folder = tempfile.mkdtemp(prefix="coop-bench-")
        if self.server_url:
            server = make_url(self.server_url)
            if server.drivername in ("postgres", "postgresql"):
                server = server.set(drivername="postgresql+psycopg")
            self.name = f"coop_bench_{secrets.token_hex(4)}"
            self.admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
            self.url = server.set(database=self.name).render_as_string(hide_password=False)
            self.kind = "postgresql"
        else:
            self.admin = None
            self.url = f"sqlite:///{self.folder}/bench.sqlite"
            self.kind = "sqlite"

    def drop(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


def build(database: Database):
    """Migrate and seed; returns the app (for checks afterwards) and what was seeded."""
    from cooperative import create_app
    from cooperative.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "TESTING": False})
    app.instance_path = database.folder
    with app.app_context():
        upgrade()
        started = time.monotonic()
        seeded = seeding.seed()
        seconds = time.monotonic() - started
        if database.kind == "postgresql":
            with db.engine.connect() as connection:
                connection.execute(sa.text("ANALYZE"))
                connection.commit()
        db.session.remove()
        db.engine.dispose()
    return app, seeded, seconds


def seats_check(app, seeded) -> tuple[int, int]:
    """Seats taken and capacity of the registration scenario's event."""
    from cooperative.extensions import db
    from cooperative.models import Event

    with app.app_context():
        event = db.session.get(Event, seeded.register_event_id)
        taken, capacity = event.seats_taken, event.capacity
        db.session.remove()
        db.engine.dispose()
    return taken, capacity


# --- Scenarios ----------------------------------------------------------------------------


def log_in(port: int, seeded) -> tuple[str, str]:
    """Log the organiser in as a browser does; return (session cookie, CSRF token)."""
    status, headers, page = fetch(port, "GET", "/auth/login")
    cookie = session_cookie(headers)
    body = urlencode(
        {
            "csrf_token": csrf_in(page),
            "email": seeded.organiser_email,
            "password": seeded.organiser_password,
        }
    ).encode()
    status, headers, _ = fetch(
        port,
        "POST",
        "/auth/login",
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        body,
    )
    if status != 303:
        raise RuntimeError(f"the organiser could not log in ({status})")
    cookie = session_cookie(headers, cookie)
    list_path = f"/manage/events/{seeded.big_event_id}/attendees"
    status, headers, page = fetch(port, "GET", list_path, {"Cookie": cookie})
    if status != 200:
        raise RuntimeError(f"the attendance list answered {status}")
    return session_cookie(headers, cookie), csrf_in(page)


def queries_of(port, method, path, headers=None, body=None) -> int | None:
    status, found, _ = fetch(port, method, path, headers, body)
    value = found.get("x-sql-queries", [None])[0]
    return int(value) if value is not None else None


def first_visit(port: int, path: str) -> dict:
    """What a browser's first visit of `path` transfers: the page and its CSS, JS and icon,
    compressed; and whether those files carry a content hash and are cached as immutable."""
    headers = {"Accept-Encoding": BROWSER_ENCODING}
    _, found, page = fetch(port, "GET", path, headers)
    total = len(page)
    files = {}
    _, _, plain = fetch(port, "GET", path)  # the same page uncompressed, to read its links
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', plain)
    for asset in dict.fromkeys(a.decode().replace("&amp;", "&") for a in assets):
        _, asset_headers, data = fetch(port, "GET", asset, headers)
        total += len(data)
        files[asset] = {
            "bytes": len(data),
            "encoding": asset_headers.get("content-encoding", [""])[0],
            "cache_control": asset_headers.get("cache-control", [""])[0],
        }
    hashed = bool(files) and all("?v=" in name for name in files)
    immutable = bool(files) and all("immutable" in f["cache_control"] for f in files.values())
    return {
        "page_bytes": len(page),
        "page_encoding": found.get("content-encoding", [""])[0],
        "total_bytes": total,
        "files": files,
        "hashed": hashed,
        "immutable": immutable,
    }


def wanted(name: str) -> bool:
    return not ONLY or name in ONLY


def main() -> int:
    wrk = ensure_wrk()
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    database = Database()
    print(f"Database: {database.kind}. Seeding ...", flush=True)
    results: list[Result] = []
    extra: dict = {}
    try:
        app, seeded, seed_seconds = build(database)
        print(f"Seeded in {seed_seconds:.1f} s.", flush=True)
        extra["seed_seconds"] = round(seed_seconds, 1)
        ids_file = Path(database.folder) / "attendee-ids.txt"
        ids_file.write_text("\n".join(map(str, seeded.attendee_ids)) + "\n")
        encoding = f"Accept-Encoding: {BROWSER_ENCODING}"

        hello = Gunicorn("bench.hello:app", {})
        try:
            ceiling = fill(
                Result("ceiling", "one-line Flask app"),
                run_wrk(wrk, hello.port, "/", "get.lua", headers=[encoding]),
            )
            ceiling.worker_mb = hello.worker_mb()
        finally:
            hello.stop()
        results.append(ceiling)
        print(f"  ceiling: {ceiling.requests_per_second} req/s", flush=True)

        site = Gunicorn(
            "wsgi:app",
            {
                "DATABASE_URL": database.url,
                "COOP_ENV": "production",
                "SECRET_KEY": secrets.token_hex(32),
                "COOP_COUNT_QUERIES": "1",
                "BASE_URL": "http://127.0.0.1",
                "MAIL_SERVER": "",
                # wrk is one visitor at one address: the limit would answer 429 after 20.
                # The limits themselves are tested in tests/test_rate_limits.py.
                "REGISTRATION_RATE_LIMIT": "1000000 per minute",
            },
        )
        try:
            public_pages = [
                ("home", "home page", "/"),
                ("events", "event list", "/events"),
                ("event", "an event page", f"/events/{seeded.event_slug}"),
                ("directory", "directory, Energie", "/collectives?domain=energie"),
                ("api", "API: events", "/api/v1/events"),
            ]
            for name, what, path in public_pages:
                if not wanted(name):
                    continue
                result = fill(
                    Result(name, f"{what} ({path})"),
                    run_wrk(wrk, site.port, path, "get.lua", headers=[encoding]),
                )
                result.sql_queries = queries_of(site.port, "GET", path)
                result.worker_mb = site.worker_mb()
                results.append(result)
                print(f"  {name}: {result.requests_per_second} req/s", flush=True)

            cookie, token = log_in(site.port, seeded)
            list_path = f"/manage/events/{seeded.big_event_id}/attendees"
            if wanted("attendance"):
                # How long one volunteer waits for the list (the target), then 16 phones
                # asking at once, where each also waits for the others' turns.
                for name, what, connections in (
                    ("attendance", "attendance list, 1,500 people, one phone", 1),
                    ("attendance16", "attendance list, 1,500 people, 16 phones", CONNECTIONS),
                ):
                    result = fill(
                        Result(name, what),
                        run_wrk(
                            wrk,
                            site.port,
                            list_path,
                            "get.lua",
                            headers=[encoding, f"Cookie: {cookie}"],
                            connections=connections,
                        ),
                    )
                    result.sql_queries = queries_of(site.port, "GET", list_path, {"Cookie": cookie})
                    result.worker_mb = site.worker_mb()
                    results.append(result)
                    print(f"  {name}: p50 {result.p50_ms} ms", flush=True)

            if wanted("checkin"):
                result = fill(
                    Result("checkin", "check-in POST (htmx)"),
                    run_wrk(
                        wrk,
                        site.port,
                        "/",
                        "checkin.lua",
                        args=[str(seeded.big_event_id), str(ids_file), token, cookie],
                        warm_up=False,
                    ),
                )
                result.sql_queries = queries_of(
                    site.port,
                    "POST",
                    f"/manage/events/{seeded.big_event_id}/attendees/"
                    f"{seeded.attendee_ids[0]}/check-in",
                    {"Cookie": cookie, "X-CSRFToken": token, "HX-Request": "true"},
                    b"",
                )
                result.worker_mb = site.worker_mb()
                results.append(result)
                print(f"  checkin: p99 {result.p99_ms} ms", flush=True)

            if wanted("register"):
                event_path = f"/events/{seeded.register_event_slug}"
                _, headers, page = fetch(site.port, "GET", event_path)
                anonymous, anonymous_token = session_cookie(headers), csrf_in(page)
                result = fill(
                    Result("register", "registration POST (no JavaScript)"),
                    run_wrk(
                        wrk,
                        site.port,
                        "/",
                        "register.lua",
                        args=[
                            seeded.register_event_slug,
                            anonymous_token,
                            anonymous,
                            secrets.token_hex(3),
                        ],
                        warm_up=False,
                    ),
                )
                body = urlencode(
                    {
                        "csrf_token": anonymous_token,
                        "contact_name": "Laatste",
                        "contact_email": "laatste@bench.example",
                        "people-0-name": "Laatste",
                        "people-0-meal": "",
                        "pay_method": "door",
                        "submit": "register",
                    }
                ).encode()
                result.sql_queries = queries_of(
                    site.port,
                    "POST",
                    f"{event_path}/register",
                    {"Cookie": anonymous, "Content-Type": "application/x-www-form-urlencoded"},
                    body,
                )
                result.worker_mb = site.worker_mb()
                taken, capacity = seats_check(app, seeded)
                extra["register_seats"] = {"taken": taken, "capacity": capacity}
                result.notes.append(f"seats taken {taken} of {capacity}")
                results.append(result)
                print(f"  register: {result.requests_per_second} req/s", flush=True)

            extra["first_visit"] = first_visit(site.port, f"/events/{seeded.event_slug}")
        finally:
            site.stop()
    finally:
        database.drop()

    judge(results, extra, database.kind)
    report = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine(database, load_before),
        "settings": {"seconds": SECONDS, "connections": CONNECTIONS, "workers": WORKERS},
        "results": [asdict(r) for r in results],
        **extra,
    }
    table = markdown(results, extra, report)
    print()
    print(table)
    RESULTS.mkdir(exist_ok=True)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{stamp}-{database.kind}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"latest-{database.kind}.md").write_text(table + "\n")
    print(f"\nWritten to bench/results/{stamp}-{database.kind}.json and latest-{database.kind}.md")
    return 0


def judge(results: list[Result], extra: dict, kind: str) -> None:
    """Mark each result against the issue's targets."""
    ceiling = next(r for r in results if r.name == "ceiling")
    for result in results:
        if result.name == "ceiling":
            continue
        result.share_of_ceiling = round(result.requests_per_second / ceiling.requests_per_second, 3)
        checks = []
        if result.name in PUBLIC:
            result.target = f"≥ {PUBLIC_SHARE:.0%} of ceiling"
            checks.append(result.share_of_ceiling >= PUBLIC_SHARE)
        elif result.name == "attendance":
            result.target = f"p50 ≤ {ATTENDANCE_P50_MS} ms"
            checks.append(result.p50_ms <= ATTENDANCE_P50_MS)
        elif result.name == "attendance16":
            result.target = "(for comparison: the wait includes the queue)"
        elif result.name == "checkin":
            result.target = f"p99 ≤ {CHECKIN_P99_MS} ms"
            checks.append(result.p99_ms <= CHECKIN_P99_MS)
        elif result.name == "register":
            seats = extra.get("register_seats", {})
            oversold = seats.get("taken", 0) > seats.get("capacity", 0)
            if oversold:
                result.notes.append("OVERSOLD")
            if kind == "postgresql":
                result.target = f"≥ {REGISTER_PER_SECOND}/s, none oversold"
                checks.append(result.requests_per_second >= REGISTER_PER_SECOND)
            else:
                result.target = "none oversold (rate: PostgreSQL only)"
            checks.append(not oversold)
        checks.append(result.sql_queries is None or result.sql_queries <= MAX_QUERIES)
        checks.append(result.worker_mb <= MAX_WORKER_MB)
        result.met = all(checks)
    visit = extra.get("first_visit")
    if visit:
        visit["met"] = (
            visit["total_bytes"] <= MAX_FIRST_VISIT_KB * 1024
            and visit["hashed"]
            and visit["immutable"]
        )


def machine(database: Database, load_before) -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    except OSError:
        memory = "0"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(int(memory) / 1024 / 1024, 1),
        "system": platform.platform(),
        "python": platform.python_version(),
        "database": database.kind,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def markdown(results: list[Result], extra: dict, report: dict) -> str:
    m = report["machine"]
    s = report["settings"]
    lines = [
        f"Run {report['started_at']} on {m['cores']} cores ({m['cpu']}), {m['database']}, "
        f"{s['workers']} gunicorn workers, wrk {s['connections']} connections, "
        f"{s['seconds']} s per scenario; load average before/after "
        f"{m['load_average_before'][0]}/{m['load_average_after'][0]}.",
        "",
        "| scenario | req/s | p50 ms | p99 ms | of ceiling | SQL | worker MB | errors "
        "| target | met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        share = f"{r.share_of_ceiling:.0%}" if r.share_of_ceiling is not None else ""
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        notes = f" ({'; '.join(r.notes)})" if r.notes else ""
        lines.append(
            f"| {r.what} | {r.requests_per_second:.0f} | {r.p50_ms} | {r.p99_ms} | {share} "
            f"| {'' if r.sql_queries is None else r.sql_queries} | {r.worker_mb} | {r.errors} "
            f"| {r.target}{notes} | {met} |"
        )
    visit = extra.get("first_visit")
    if visit:
        lines += [
            "",
            f"First visit of an event page: {visit['total_bytes'] / 1024:.1f} KB compressed "
            f"(page {visit['page_bytes'] / 1024:.1f} KB, {visit['page_encoding'] or 'plain'}); "
            f"static files hashed: {'yes' if visit['hashed'] else 'no'}, immutable: "
            f"{'yes' if visit['immutable'] else 'no'}; target ≤ {MAX_FIRST_VISIT_KB} KB: "
            f"{'met' if visit['met'] else 'not met'}.",
        ]
    if "seed_seconds" in extra:
        lines.append(f"Seeding took {extra['seed_seconds']} s.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
