"""Speed without changing what anyone sees: hashed static URLs, compression, query counts.

- Every `url_for('static', filename=...)` gets `?v=<hash of the file's content>`. A
  browser may then keep the file for a year (`immutable`): a changed file has a new hash,
  so a new URL, and is fetched again. Without the right hash the usual short caching applies.
- HTML, CSS, JS, JSON and SVG answers are compressed (zstd, brotli or gzip, whichever the
  browser takes) by Flask-Compress.
- With `COOP_COUNT_QUERIES=1` in the environment each answer says in `X-SQL-Queries` how many
  SQL statements it took (the benchmark reads it). Off by default.
"""

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_request_context, request
from flask_compress import Compress

IMMUTABLE = "public, max-age=31536000, immutable"
QUERY_HEADER = "X-SQL-Queries"

compress = Compress()


@lru_cache(maxsize=256)
def _content_hash(path: str, mtime_ns: int, size: int) -> str:
    """The first 12 hex digits of the file's SHA-256 (cached while the file is unchanged)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def static_hash(filename: str) -> str | None:
    """The content hash of a file in `static/`, or None when there is no such file."""
    folder = current_app.static_folder
    if not folder:
        return None
    root = Path(folder).resolve()
    path = (root / filename).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    stat = path.stat()
    return _content_hash(str(path), stat.st_mtime_ns, stat.st_size)


def _add_static_hash(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        digest = static_hash(values["filename"])
        if digest:
            values["v"] = digest


def _cache_hashed_static(response: Response) -> Response:
    """A static file asked for with its current hash may be kept for a year."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    wanted = request.args.get("v")
    filename = (request.view_args or {}).get("filename", "")
    if wanted and wanted == static_hash(filename):
        response.headers["Cache-Control"] = IMMUTABLE
    return response


def _count_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    if has_request_context():
        g.sql_queries = g.get("sql_queries", 0) + 1


def _report_query_count(response: Response) -> Response:
    response.headers[QUERY_HEADER] = str(g.get("sql_queries", 0))
    return response


def init_app(app: Flask) -> None:
    """Hash static URLs, compress answers, and count queries when asked to."""
    app.url_defaults(_add_static_hash)
    app.after_request(_cache_hashed_static)
    compress.init_app(app)
    if os.environ.get("COOP_COUNT_QUERIES", "").strip() in {"1", "true", "yes", "on"}:
        # Registered on the Engine class: it counts on whichever engine the app makes.
        if not sa.event.contains(sa.engine.Engine, "before_cursor_execute", _count_statement):
            sa.event.listen(sa.engine.Engine, "before_cursor_execute", _count_statement)
        app.after_request(_report_query_count)
