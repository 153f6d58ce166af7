"""Importing the member register from a CSV file: every refused row listed with its
reason, nothing half-imported, a dry run that writes nothing; by command and upload."""

import io

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Membership, MembershipStatus, User
from cooperative.services import membership as memberships
from tests.conftest import csrf_token
from tests.factories import make_admin, make_member, make_plan, make_user

HEADER = (
    "member_number;name;street;house_number;postcode;city;country;admitted_on;plan;"
    "email;email_notices;language\n"
)
GOOD = (
    HEADER
    + "7;Ada Lovelace;Javastraat;12-2;1094hb;Amsterdam;;2019-03-01;lid;ada@example.org;ja;en\n"
    + "8;Bert Bos;Rue Neuve;3;B-1000;Brussel;BE;01-02-2020;lid;;nee;\n"
)


def counts():
    return (
        db.session.scalar(sa.select(sa.func.count(Membership.id))),
        db.session.scalar(sa.select(sa.func.count(User.id))),
    )


def test_the_command_imports_every_row(app, runner, tmp_path):
    with app.app_context():
        make_plan()
    path = tmp_path / "leden.csv"
    path.write_text(GOOD, encoding="utf-8")
    dry = runner.invoke(args=["coop", "import-members", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "all 2 rows can be imported" in dry.output
    with app.app_context():
        assert counts() == (0, 0)
    result = runner.invoke(args=["coop", "import-members", str(path)])
    assert result.exit_code == 0 and "Imported 2 members." in result.output
    with app.app_context():
        ada, bert = db.session.scalars(sa.select(Membership).order_by(Membership.number)).all()
        assert (ada.number, ada.postcode, ada.status) == (7, "1094 HB", MembershipStatus.ACTIVE)
        assert ada.admitted_on.isoformat() == "2019-03-01"
        assert ada.user.email == "ada@example.org" and ada.user.locale == "en"
        assert ada.email_notices_consent_at is not None
        assert (bert.user, bert.country, bert.postcode) == (None, "BE", "B-1000")
        assert bert.admitted_on.isoformat() == "2020-02-01"
        # The next member to join gets the number after the highest imported one.
        newcomer = memberships.join(make_user("new@example.org"), ada.plan)
        assert newcomer.number == 9


def test_every_bad_row_is_listed_and_nothing_is_imported(app, runner, tmp_path):
    with app.app_context():
        make_plan()
        make_member("taken@example.org")  # member number 1
    rows = [
        "2;Goed Lid;Straat;1;1011 AB;Amsterdam;;2020-01-01;lid;goed@example.org;;",
        "3;Slechte Code;Straat;1;0123 AB;Amsterdam;;2020-01-01;lid;;;",
        "1;Dubbel Nummer;Straat;1;1011 AB;Amsterdam;;2020-01-01;lid;;;",
        "4;Dubbel Adres;Straat;1;1011 AB;Amsterdam;;2020-01-01;lid;goed@example.org;;",
        "5;Bestaand Lid;Straat;1;1011 AB;Amsterdam;;2020-01-01;lid;taken@example.org;;",
        "6;Geen Plan;Straat;1;1011 AB;Amsterdam;;2020-01-01;goud;;;",
        "7;Slechte Datum;Straat;1;1011 AB;Amsterdam;;1 maart;lid;;;",
        "8;Toekomst;Straat;1;1011 AB;Amsterdam;;2999-01-01;lid;;;",
        "9;Geen Adres;Straat;1;1011 AB;Amsterdam;;2020-01-01;lid;geen-adres;;",
        "10;Post Zonder Adres;Straat;1;1011 AB;Amsterdam;;2020-01-01;lid;;ja;",
        "x;Geen Nummer;Straat;1;1011 AB;Amsterdam;;2020-01-01;lid;;;",
        "12;;Straat;1;1011 AB;Amsterdam;;2020-01-01;lid;;;",
        "13;Goed Twee;Straat;1;1011 AB;Amsterdam;;2020-01-01;lid;;;",
        "13;Zelfde Nummer;Straat;1;1011 AB;Amsterdam;;2020-01-01;lid;;;",
    ]
    path = tmp_path / "leden.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    with app.app_context():
        before = counts()
    result = runner.invoke(args=["coop", "import-members", str(path)])
    assert result.exit_code == 1
    out = result.output
    expected = {
        3: "Dutch postcode",
        4: "Member number 1 is used twice",
        5: "goed@example.org is used twice",
        6: "taken@example.org has a membership already",
        7: "There is no plan goud",
        8: "is not a date",
        9: "is in the future",
        10: "geen-adres is not an e-mail address",
        11: "need an e-mail address",
        12: "is not a whole number",
        13: "The column name is empty",
        15: "Member number 13 is used twice",
    }
    for line, reason in expected.items():
        assert f"line {line}: " in out and reason in out, (line, reason, out)
    assert "line 2:" not in out and "line 14:" not in out
    assert "Nothing imported: 12 refusals in 14 rows." in out
    with app.app_context():
        assert counts() == before


def test_a_file_that_is_not_a_register_is_refused(app, runner, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("naam,adres\nAda,Javastraat\n", encoding="utf-8")
    result = runner.invoke(args=["coop", "import-members", str(path)])
    assert result.exit_code == 1 and "member_number" in result.output
    path.write_bytes("member_number;name\n1;Zo\xeb\n".encode("latin-1"))
    result = runner.invoke(args=["coop", "import-members", str(path)])
    assert result.exit_code == 1 and "UTF-8" in result.output
    path.write_text(HEADER, encoding="utf-8")
    result = runner.invoke(args=["coop", "import-members", str(path)])
    assert result.exit_code == 1 and "no members" in result.output


def upload(client, text: str, dry_run: bool, lang="en"):
    data = {
        "csrf_token": csrf_token(client, "/admin/register/import"),
        "file": (io.BytesIO(text.encode("utf-8")), "leden.csv"),
    }
    if dry_run:
        data["dry_run"] = "y"
    return client.post(
        f"/admin/register/import?lang={lang}", data=data, content_type="multipart/form-data"
    )


def test_the_upload_page_checks_then_imports(client, app, auth):
    with app.app_context():
        make_plan()
        make_admin()
    auth.login("admin@example.org")
    bad = GOOD + "9;Slecht;Straat;1;99;Amsterdam;;2020-01-01;lid;;;\n"
    response = upload(client, bad, dry_run=True)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "1 row would be refused; nothing is imported." in page
    assert "Dutch postcode" in page and '<td data-label="Line">4</td>' in page
    response = upload(client, bad, dry_run=False)
    assert response.status_code == 422
    with app.app_context():
        assert counts()[0] == 0
    checked = upload(client, GOOD, dry_run=True)
    assert checked.status_code == 200
    assert "2 members can be imported" in checked.get_data(as_text=True)
    with app.app_context():
        assert counts()[0] == 0
    done = upload(client, GOOD, dry_run=False)
    assert done.status_code == 303 and done.headers["Location"] == "/admin/register"
    with app.app_context():
        assert counts()[0] == 2
    without_file = client.post(
        "/admin/register/import?lang=en",
        data={"csrf_token": csrf_token(client, "/admin/register/import")},
    )
    assert without_file.status_code == 422
    assert "Please choose a CSV file." in without_file.get_data(as_text=True)


def test_checking_a_file_takes_the_same_queries_for_many_rows(app, count_queries):
    from cooperative.services import register_import

    def file_of(rows: int) -> bytes:
        lines = [
            f"{n};Lid {n};Straat;{n};1011 AB;Amsterdam;;2020-01-01;lid;lid{n}@example.org;;"
            for n in range(1, rows + 1)
        ]
        return (HEADER + "\n".join(lines) + "\n").encode()

    with app.app_context():
        make_plan()
        with count_queries as counted:
            assert register_import.import_members(file_of(3), dry_run=True).ok
        few = counted.count
        with count_queries as counted:
            assert register_import.import_members(file_of(40), dry_run=True).ok
        assert counted.count == few


def test_a_member_number_of_other_digits_is_refused_not_a_500(app, runner, tmp_path):
    """'²' and '٣' are digits to str.isdigit but not to int(): refused like any non-number."""
    with app.app_context():
        make_plan()
    rows = [
        "²;Ada Lovelace;Javastraat;12;1094 HB;Amsterdam;;2019-03-01;lid;;;",
        "٣;Bert Bos;Javastraat;12;1094 HB;Amsterdam;;2019-03-01;lid;;;",
    ]
    path = tmp_path / "leden.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(args=["coop", "import-members", str(path)])
    assert result.exit_code == 1, result.output
    assert "line 2: " in result.output and "line 3: " in result.output
    assert result.output.count("is not a whole number") == 2
    with app.app_context():
        assert counts() == (0, 0)
