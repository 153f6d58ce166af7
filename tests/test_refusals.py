"""A service's refusal (`refusals.Refused`) shown next to the form field it names, by the
one helper every view uses (`forms.fields.show_refusal`)."""

import pytest
from wtforms import FieldList, Form, FormField, StringField

from cooperative.forms.fields import show_refusal
from cooperative.refusals import Refused


class PersonForm(Form):
    name = StringField()


class PartyForm(Form):
    email = StringField()
    people = FieldList(FormField(PersonForm), min_entries=2)


@pytest.mark.parametrize(
    ("field", "default", "where"),
    [
        ("email", None, "email"),
        ("people-1-name", None, "people-1-name"),
        ("people", None, "people"),
        ("people-7-name", None, None),  # no such person: about the form as a whole
        ("event", None, None),
        (None, None, None),
        (None, "email", "email"),
        ("nonsense", "email", "email"),
    ],
)
def test_a_refusal_is_shown_next_to_the_field_it_names(field, default, where):
    form = PartyForm()
    form.validate()
    show_refusal(form, Refused("Nope.", field), default=default)
    shown = {f.name for f in [form.email, form.people, *(e.form.name for e in form.people)]}
    found = {name for name in shown if "Nope." in _errors(form, name)}
    assert found == ({where} if where else set())
    assert form.form_errors == ([] if where else ["Nope."])


def _errors(form, name):
    fields = {form.email.name: form.email, form.people.name: form.people}
    fields |= {entry.form.name.name: entry.form.name for entry in form.people}
    return list(fields[name].errors)


def test_a_prefixed_form_takes_the_refusal_by_its_short_name():
    form = PersonForm(prefix="attendee-5")
    show_refusal(form, Refused("Too long.", "name"))
    assert form.name.errors == ["Too long."]


def test_a_refusal_reads_as_its_message():
    refusal = Refused("This event is cancelled already.")
    assert str(refusal) == "This event is cancelled already." and refusal.field is None
