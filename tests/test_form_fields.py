"""Every text field of every form is cleaned and limited the same way: `strip` (spaces
and NUL characters; forms/fields.py) and a `Length(max=...)` checked by the form, so long
or hostile text is refused with a message next to the field, never cut in silence."""

import importlib
import pkgutil

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form, PasswordField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

import cooperative.forms
import cooperative.views
from cooperative.forms.collaborations import MeasureField
from cooperative.forms.fields import EuroField, page_number, strip
from cooperative.forms.filters import AttendanceFilterForm
from cooperative.services.attendance import AttendanceFilters
from cooperative.services.attendance.filters import PAGE_MAX

# Parsed into a number by the field itself: more than a few digits is no amount at all.
PARSED = (EuroField, MeasureField)


def all_forms() -> list[type[Form]]:
    for package in (cooperative.forms, cooperative.views):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    found, todo = set(), [Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("cooperative."):
                found.add(sub)
    return sorted(found, key=lambda form: (form.__module__, form.__qualname__))


def text_fields():
    for form in all_forms():
        for name in dir(form):
            unbound = getattr(form, name)
            if isinstance(unbound, UnboundField) and issubclass(unbound.field_class, StringField):
                yield pytest.param(unbound, id=f"{form.__module__}.{form.__qualname__}.{name}")


@pytest.mark.parametrize("unbound", list(text_fields()))
def test_every_text_field_is_cleaned_and_limited(unbound):
    if issubclass(unbound.field_class, PARSED):
        return
    validators = unbound.kwargs.get("validators") or (
        unbound.args[1] if len(unbound.args) > 1 else []
    )
    limits = [v.max for v in validators if isinstance(v, Length) and v.max > 0]
    assert limits, "no Length(max=...)"
    if not issubclass(unbound.field_class, PasswordField):  # a password is taken as typed
        assert strip in (unbound.kwargs.get("filters") or ()), "no strip filter"


def test_the_forms_are_found():
    names = {form.__qualname__ for form in all_forms()}
    assert {"RegistrationForm", "PersonForm", "WalkInForm", "PlanForm", "LoginForm"} <= names


@pytest.mark.parametrize(
    ("raw", "maximum", "page"),
    [
        (None, None, 1),
        ("", 50, 1),
        ("3", 50, 3),
        (" 2 ", 50, 2),
        ("0", 50, 1),
        ("-1", 50, 1),
        ("+2", 50, 1),
        ("1.5", 50, 1),
        ("abc", 50, 1),
        ("\u0663", 50, 1),  # an Arabic 3: a digit, but not one a link writes
        ("\u00b2", 50, 1),
        ("51", 50, 50),
        ("9" * 5000, 50, 50),  # longer than int() reads
        ("9" * 5000, None, 10**9),
        ("70", None, 70),
    ],
)
def test_one_page_number_parser_for_every_list(raw, maximum, page):
    assert page_number(raw, maximum) == page


@pytest.mark.parametrize(
    ("args", "filters"),
    [
        ({}, AttendanceFilters()),
        (
            {"q": "  ada   lovelace ", "show": "todo", "page": "3"},
            AttendanceFilters("ada lovelace", "todo", 3),
        ),
        ({"q": "ada\x00love\nlace"}, AttendanceFilters(q="ada love lace")),
        ({"q": "x" * 500}, AttendanceFilters(q="x" * 200)),
        ({"show": "everything"}, AttendanceFilters()),
        ({"show": "meal", "page": "0"}, AttendanceFilters(show="meal")),
        ({"page": "two"}, AttendanceFilters()),
        ({"page": " 7 "}, AttendanceFilters(page=7)),
        ({"page": "9" * 50}, AttendanceFilters(page=PAGE_MAX)),
    ],
)
def test_the_attendance_list_reads_its_filters_forgiving_every_mistake(args, filters):
    assert AttendanceFilterForm(MultiDict(args)).filters == filters
