"""The form renderer writes an <input> exactly as Django's widget templates do (ccass_portal/form_renderer.py,
issue 19): the same HTML for every value and attribute, escaped the same way, on every form of the portal."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.forms import LoginForm
from ccass_portal.form_renderer import INPUT_TYPES, PortalFormRenderer

DJANGO = DjangoTemplates()
PORTAL = PortalFormRenderer()

values = st.one_of(
    st.none(), st.text(max_size=12), st.sampled_from(['a"b', "<script>", "&amp;", "O'Brien", "", "0"]), st.integers()
)
attr_values = st.one_of(st.booleans(), st.none(), st.integers(), st.text(max_size=8), st.just('x"><b>'))
attrs = st.dictionaries(
    st.sampled_from(["id", "class", "autocomplete", "aria-describedby", "required", "lang"]), attr_values
)


@settings(max_examples=300, deadline=None)
@given(input_type=st.sampled_from(INPUT_TYPES), name=st.text(max_size=8), value=values, attrs=attrs)
def test_an_input_is_written_as_djangos_templates_write_it(input_type, name, value, attrs):
    template = f"django/forms/widgets/{input_type}.html"
    context = {"widget": {"type": input_type, "name": name, "value": value, "attrs": attrs, "template_name": template}}
    assert template in PORTAL._stock_inputs  # the Python path is the one compared
    assert PORTAL.render(template, context) == DJANGO.render(template, context)


def widgets_of_every_form():
    from accounts import forms as account_forms
    from dms import forms as dms_forms

    for module in (account_forms, dms_forms):
        for form_class in vars(module).values():
            if isinstance(form_class, type) and issubclass(form_class, forms.BaseForm) and form_class.base_fields:
                yield from ((form_class, name) for name in form_class.base_fields)


@pytest.mark.django_db  # a model choice field lists its choices
@pytest.mark.parametrize(("form_class", "field"), list(widgets_of_every_form()))
def test_every_field_of_the_portal_renders_the_same(form_class, field):
    """Each field of accounts/forms.py and dms/forms.py, as a bound field with a value that needs
    escaping and an error (aria attributes), through both renderers."""
    widget = form_class.base_fields[field].widget
    for value in (None, 'x"<y>&', "12345678"):
        bound = forms.Form(data={field: value} if value is not None else None)
        bound.fields[field] = form_class.base_fields[field]
        attrs = {"aria-invalid": "true", "aria-describedby": f"id_{field}-error"}
        ours = bound[field].as_widget(attrs=attrs)
        bound.renderer = DJANGO
        djangos = bound[field].as_widget(attrs=attrs)
        assert ours == djangos, (form_class.__name__, field, type(widget).__name__)


def test_the_logon_form_uses_the_python_path():
    assert LoginForm().renderer.__class__ is PortalFormRenderer
    assert {"django/forms/widgets/text.html", "django/forms/widgets/password.html"} <= PORTAL._stock_inputs
