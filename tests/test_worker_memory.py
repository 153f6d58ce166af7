"""A web worker loads the Stripe SDK, Pydantic, fpdf2 and feedgen (with lxml) only when
it needs them (bench/README.md: worker memory at most 100 MB): a fresh process, as
gunicorn's worker builds the app."""

import json
import subprocess
import sys

from cooperative.extensions import db
from cooperative.models import Domain

WORKER = """
import json, sys
from cooperative import create_app

LAZY = ("stripe", "requests", "pydantic", "fpdf", "feedgen", "lxml")
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1]}, migrations=False)
loaded = {"started": [name for name in LAZY if name in sys.modules]}
client = app.test_client()
pages = {}
for path in ("/", "/events", "/collectives", "/api/v1/domains", "/events.rss"):
    response = client.get(path)
    pages[path] = response.status_code
    loaded[path] = [name for name in LAZY if name in sys.modules]
    if path == "/api/v1/domains":
        domains = response.get_json()
print(json.dumps({"loaded": loaded, "pages": pages, "domains": domains}))
"""


def test_pydantic_stripe_fpdf_and_feedgen_wait_until_a_page_needs_them(app, database_url):
    with app.app_context():
        db.session.add(Domain(slug="energie", name_nl="Energie", name_en="Energy", position=0))
        db.session.commit()
    result = subprocess.run(
        [sys.executable, "-c", WORKER, database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["pages"] == {
        "/": 200,
        "/events": 200,
        "/collectives": 200,
        "/api/v1/domains": 200,
        "/events.rss": 200,
    }
    assert answer["loaded"] == {
        "started": [],
        "/": [],
        "/events": [],
        "/collectives": [],
        # The API's first request imports its models; the site's pages never do.
        "/api/v1/domains": ["pydantic"],
        "/events.rss": ["pydantic", "feedgen", "lxml"],
    }
    assert [domain["slug"] for domain in answer["domains"]["domains"]] == ["energie"]
