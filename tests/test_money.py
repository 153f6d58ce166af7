"""Euro amounts read and written in the person's language (cooperative/money.py), and the
one `EuroField` that reads and shows them in forms."""

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict
from wtforms import Form

from cooperative.forms.fields import EuroField
from cooperative.money import MAX_CENTS, format_amount, format_euros, parse_euros


@pytest.mark.parametrize(
    ("typed", "nl", "en"),
    [
        ("7", 700, 700),
        ("7,5", 750, 750),
        ("7,50", 750, 750),
        ("7.50", 750, 750),
        ("7.5", 750, 750),
        ("0", 0, 0),
        ("0,05", 5, 5),  # English too: a comma with two digits after is a decimal comma
        ("€ 7,50", 750, 750),
        ("€7.50", 750, 750),
        (" 7,50 ", 750, 750),
        ("7 €", 700, 700),
        # Thousands, each language its own way.
        ("1.234,50", 123450, None),
        ("1,234.50", None, 123450),
        ("1.234", 123400, None),  # Dutch thousands; English: three decimals
        ("1,234", None, 123400),
        ("1234,50", 123450, 123450),
        ("1234.50", 123450, 123450),
        ("€ 1.250", 125000, 125),  # English: one euro twenty-five
        # Not an amount.
        ("", None, None),
        ("   ", None, None),
        ("€", None, None),
        ("-7", None, None),
        ("-7,50", None, None),
        ("7,505", None, 750500),  # English: 7,505 is seven thousand five hundred and five
        ("7.505", 750500, None),
        ("7,5,0", None, None),
        ("1.23.4", None, None),
        ("7,50 euro", None, None),
        ("1e3", None, None),
        ("٣", None, None),
        ("7\x00", None, None),
        ("9" * 30, None, None),
    ],
)
def test_amounts_are_read_as_each_language_writes_them(typed, nl, en):
    assert parse_euros(typed, locale="nl") == nl
    assert parse_euros(typed, locale="en") == en


def test_the_largest_amount_is_a_guard_against_typing_mistakes():
    assert parse_euros("99999,99", locale="nl") == MAX_CENTS
    assert parse_euros("99.999,99", locale="nl") == MAX_CENTS
    assert parse_euros("100000", locale="nl") is None
    assert parse_euros("100,000.00", locale="en") is None


@pytest.mark.parametrize(
    ("cents", "nl", "en"),
    [
        (750, "€ 7,50", "€7.50"),
        (700, "€ 7,00", "€7.00"),
        (5, "€ 0,05", "€0.05"),
        (123450, "€ 1.234,50", "€1,234.50"),
        (-750, "€ -7,50", "-€7.50"),
    ],
)
def test_amounts_are_written_with_the_euro_sign(cents, nl, en):
    assert format_euros(cents, locale="nl").replace("\xa0", " ") == nl
    assert format_euros(cents, locale="en") == en


@pytest.mark.parametrize("cents", [0, 5, 50, 700, 750, 123450, MAX_CENTS])
@pytest.mark.parametrize("locale", ["nl", "en"])
def test_an_amount_written_for_an_input_reads_back_the_same(cents, locale):
    text = format_amount(cents, locale=locale)
    assert text == f"{cents // 100}{',' if locale == 'nl' else '.'}{cents % 100:02d}"
    assert parse_euros(text, locale=locale) == cents


def test_templates_have_one_filter_for_money_and_one_for_amounts(app):
    template = app.jinja_env.from_string("{{ price | money }} {{ fee | amount }}")
    with app.test_request_context(), force_locale("en"):
        assert template.render(price=750, fee=700) == "€7.50 7.00"
    with app.test_request_context(), force_locale("nl"):
        assert template.render(price=750, fee=700).replace("\xa0", " ") == "€ 7,50 7,00"


class PriceForm(Form):
    price = EuroField("Price")


@pytest.mark.parametrize(("lang", "shown"), [("nl", "7,00"), ("en", "7.00")])
def test_a_euro_field_shows_its_cents(app, lang, shown):
    with app.test_request_context(), force_locale(lang):
        form = PriceForm(data={"price": 700})
        assert f'value="{shown}"' in form.price()
        assert PriceForm(data={"price": None}).price._value() == ""


@pytest.mark.parametrize(
    ("typed", "cents", "valid"),
    [("7,50", 750, True), ("", None, True), ("-1", None, False), ("7,505", None, False)],
)
def test_a_euro_field_reads_what_was_typed(app, typed, cents, valid):
    with app.test_request_context(), force_locale("nl"):
        form = PriceForm(MultiDict({"price": typed}))
        assert form.validate() is valid
        assert form.price.data == cents
        assert form.price._value() == typed  # shown again as typed
        if not valid:
            assert [str(error) for error in form.price.errors] == [
                "Vul een bedrag in euro in, zoals 4,50."
            ]
