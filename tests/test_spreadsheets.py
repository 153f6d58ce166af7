"""Every CSV export is made one way (`cooperative.spreadsheets`): headers in the reader's
language, a byte order mark, and in Dutch `;` between columns and a decimal comma."""

import csv
import io

import pytest

from cooperative.spreadsheets import csv_safe
from tests import attendance_fixtures
from tests.factories import make_admin, make_member, make_plan

door = attendance_fixtures.door
organiser = attendance_fixtures.organiser

EXPORTS = {
    # export: (its first headers in English, in Dutch)
    "attendance": (
        ["Party", "Contact e-mail", "Name"],
        ["Groep van", "E-mail contactpersoon", "Naam"],
    ),
    "members": (["Number", "Name", "E-mail address"], ["Nummer", "Naam", "E-mailadres"]),
}


def log_in_for(export: str, app, client, auth, door) -> str:
    """Log in someone who may download `export`, and give its address."""
    if export == "attendance":
        attendance_fixtures.log_in(client, auth)
        return f"/manage/events/{door.event}/attendees.csv"
    with app.app_context():
        make_admin()
        make_plan()
        make_member("oost@example.org", name="Olga Oost", neighbourhood="Oost")
    auth.login("admin@example.org")
    return "/admin/members.csv"


def read(response, delimiter: str) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs for UTF-8
    content = body.decode("utf-8-sig")
    assert content.endswith("\r\n")
    return list(csv.reader(io.StringIO(content), delimiter=delimiter))


@pytest.mark.parametrize("export", list(EXPORTS))
@pytest.mark.parametrize(("lang", "delimiter"), [("en", ","), ("nl", ";")])
def test_every_export_speaks_the_readers_language(app, client, auth, door, export, lang, delimiter):
    url = log_in_for(export, app, client, auth, door)
    response = client.get(url, query_string={"lang": lang})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = read(response, delimiter)
    english, dutch = EXPORTS[export]
    headers = english if lang == "en" else dutch
    assert rows[0][: len(headers)] == headers
    assert len(rows) > 1 and all(len(row) == len(rows[0]) for row in rows)


def test_amounts_have_the_languages_decimal_mark(organiser, door):
    for lang, delimiter, price in (("en", ",", "5.00"), ("nl", ";", "5,00")):
        response = organiser.get(f"{door.list}.csv", query_string={"lang": lang})
        rows = read(response, delimiter)
        ada = next(row for row in rows if row[2] == "Ada")
        assert ada[7] == price


def test_a_cell_never_starts_a_formula():
    assert csv_safe("=1+1") == "'=1+1"
    assert csv_safe("@SUM(A1)") == "'@SUM(A1)"
    assert csv_safe("Ada") == "Ada"
