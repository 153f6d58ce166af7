"""Whole numbers typed into admin forms stay within what the database holds: a larger one
is refused on its field with a message, where it once reached the database (a 500)."""

import pytest
from werkzeug.datastructures import MultiDict

from cooperative.forms.collectives import CollectiveForm
from cooperative.forms.membership import DomainForm, PlanForm
from cooperative.forms.shares import ShareClassForm

HUGE = str(10**20)


@pytest.mark.parametrize(
    ("form_class", "field", "value", "message"),
    [
        (ShareClassForm, "position", HUGE, "from 0 to 2147483647"),
        (ShareClassForm, "position", "-1", "from 0 to 2147483647"),
        (ShareClassForm, "max_per_member", "2147483648", "from 0 to 2147483647"),
        (PlanForm, "position", HUGE, "from 0 to 2147483647"),
        (DomainForm, "position", HUGE, "from 0 to 2147483647"),
        (CollectiveForm, "founded_year", HUGE, "like 1995"),
        (CollectiveForm, "founded_year", "999", "like 1995"),
    ],
)
def test_a_number_beyond_the_database_is_refused_on_its_field(
    app, form_class, field, value, message
):
    with app.test_request_context("/?lang=en", method="POST"):
        form = form_class(formdata=MultiDict({field: value}), meta={"csrf": False})
        form.validate()
        assert any(message in str(error) for error in form.errors.get(field, [])), form.errors


@pytest.mark.parametrize(
    ("form_class", "field", "value"),
    [
        (ShareClassForm, "position", "2147483647"),
        (ShareClassForm, "max_per_member", "0"),
        (PlanForm, "position", "0"),
        (CollectiveForm, "founded_year", "1995"),
    ],
)
def test_a_number_at_the_edge_is_taken(app, form_class, field, value):
    with app.test_request_context("/?lang=en", method="POST"):
        form = form_class(formdata=MultiDict({field: value}), meta={"csrf": False})
        form.validate()
        assert field not in form.errors
