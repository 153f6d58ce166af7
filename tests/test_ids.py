"""Ids written as text, one way (cooperative/ids.py): in a form or Stripe's metadata
(`row_id`) and in every URL (`<int:...>`). A made-up id finds nothing; none reaches the
database as a number it cannot hold (SQLite refuses one over 2**63: that was a 500)."""

import pytest

from cooperative.ids import INTEGER_MAX, RowIdConverter, row_id
from tests.conftest import AuthActions
from tests.factories import make_admin

HUGE = "9" * 25


@pytest.mark.parametrize(
    "text, found",
    [
        ("7", 7),
        (" 12 ", 12),
        (str(INTEGER_MAX), INTEGER_MAX),
        (str(INTEGER_MAX + 1), None),
        (HUGE, None),
        ("0", None),
        ("-3", None),
        ("²", None),
        ("٣", None),
        ("7a", None),
        ("", None),
        (None, None),
    ],
)
def test_row_id_reads_only_an_id_a_column_can_hold(text, found):
    assert row_id(text) == found


def test_every_int_in_a_route_stops_where_a_column_does(app):
    bounded = [
        (rule.rule, converter.max)
        for rule in app.url_map.iter_rules()
        for converter in rule._converters.values()
        if isinstance(converter, RowIdConverter)
    ]
    assert len(bounded) > 50
    assert {maximum for _rule, maximum in bounded} == {INTEGER_MAX}


@pytest.mark.parametrize(
    "path",
    [
        f"/questions/{HUGE}",
        f"/manage/collaborations/{HUGE}",
        f"/manage/organisations/{HUGE}",
        f"/manage/collaborations/{HUGE}/costs",
        f"/admin/members/{HUGE}",
    ],
)
def test_a_huge_id_in_a_url_is_a_404_not_a_500(app, client, path):
    with app.app_context():
        make_admin()
    AuthActions(client).login("admin@example.org")
    assert client.get(path).status_code == 404
