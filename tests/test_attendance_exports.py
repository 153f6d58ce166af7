"""The attendance list as a CSV file and printed, and the kitchen summary's print."""

import re

from cooperative.extensions import db
from cooperative.models import (
    Event,
)
from cooperative.services import attendance
from tests import attendance_fixtures
from tests.attendance_fixtures import (
    attendee,
    read_csv,
    text,
)
from tests.conftest import post_form
from tests.factories import make_registration

door = attendance_fixtures.door
organiser = attendance_fixtures.organiser


# ---------------------------------------------------------------------------------------
# Exports


def test_the_csv_has_one_row_per_person_with_the_lists_columns(app, organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in")
    post_form(
        organiser,
        f"/manage/events/{door.event}/parties/{door.eve}/door-payment",
        {"amount": "10"},
    )

    response = organiser.get(f"/manage/events/{door.event}/attendees.csv")

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="buurtdiner-attendees.csv"'
    )
    delimiter, rows = read_csv(response)
    assert delimiter == ","
    assert rows[0] == [
        "Party",
        "Contact e-mail",
        "Name",
        "Meal",
        "Diets",
        "Note for the kitchen",
        "Status",
        "Price",
        "Payment",
        "Checked in",
        "Checked in by",
        "Ticket code",
    ]
    people = {row[2]: row for row in rows[1:]}
    assert list(people) == ["Ada", "Bob", "chris", "Eve", "Finn"]
    ada = people["Ada"]
    assert ada[:9] == [
        "Ada Lovelace",
        "ada@example.org",
        "Ada",
        "Diner",
        "Vegan",
        "No nuts, please",
        "Confirmed",
        "5.00",
        "To pay at the door €10.00",
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", ada[9]) and ada[10] == "Olga Organiser"
    assert ada[11] == attendance.short_code(attendee(app, door.ada_person))
    assert people["Bob"][9:11] == ["", ""]
    assert people["chris"][3:9] == ["", "", "", "Confirmed", "0.00", "Nothing to pay"]
    assert people["Eve"][4] == "Vegetarian, Halal"
    assert people["Eve"][8] == "Paid at the door €10.00"

    waiting = read_csv(organiser.get(door.list + ".csv", query_string={"show": "waiting"}))[1]
    assert [row[2] for row in waiting[1:]] == ["Gus"] and waiting[1][6] == "Waiting list"


def test_the_csv_in_dutch_uses_semicolons_and_decimal_commas(organiser, door):
    delimiter, rows = read_csv(organiser.get(door.list + ".csv?lang=nl"))
    assert delimiter == ";"
    ada = next(row for row in rows if row[2] == "Ada")
    assert ada[7] == "5,00"


def test_the_printable_list_is_sorted_by_name_with_boxes(app, organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/attendees/{door.bob_person}/check-in")

    page = text(organiser.get(f"/manage/events/{door.event}/attendees/print"))

    names = re.findall(r'<td class="print-box-column">.*?</td>\s*<td>([^<(]+?)(?: \(|</td>)', page)
    assert names == ["Ada", "Bob", "chris", "Eve", "Finn"]
    assert page.count('class="print-box"') == 5
    assert page.count('aria-hidden="true">✓</span>') == 1
    bob = page[page.index("<td>Bob</td>") :]
    assert "with Ada Lovelace" in bob[: bob.index("</tr>")]
    assert "@page" not in page and 'class="print-sheet"' in page


def test_what_residents_typed_never_runs_as_a_spreadsheet_formula(app, organiser, door):
    with app.app_context():
        make_registration(
            db.session.get(Event, door.event),
            people=('=HYPERLINK("http://evil.example","klik")',),
            email="formula@example.org",
            contact_name="+SUM(A1)",
            join_waitlist=True,
        )
    _delimiter, rows = read_csv(organiser.get(door.list + ".csv?show=waiting&lang=en"))
    formula = next(row for row in rows if "HYPERLINK" in row[2])
    assert formula[0] == "'+SUM(A1)"
    assert formula[2].startswith("'=HYPERLINK(")
