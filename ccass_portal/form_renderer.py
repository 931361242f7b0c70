"""Django's form renderer, with <input> widgets written in Python (settings.FORM_RENDERER).

Every logon page renders its fields' <input> through three small templates (the type's, input.html,
attrs.html): about a third of a millisecond of CPU per field, on the logon's hot path (issue 19,
docs/benchmarks.md "A lighter web worker"). This writes exactly what those templates write; any
other widget, and any input template an app overrides, still goes through the templates.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import django.forms
from django.forms.renderers import DjangoTemplates
from django.utils.html import format_html

INPUT_TYPES = ("text", "password", "email", "number", "tel", "url", "search", "hidden")
DJANGO_WIDGETS = Path(django.forms.__file__).parent / "templates" / "django" / "forms" / "widgets"


def input_html(widget: dict) -> str:
    """Django's input.html and attrs.html: a None value is left out, a False attribute left out,
    a True attribute written bare, every other value as str() and escaped."""
    html = format_html('<input type="{}" name="{}"', widget["type"], widget["name"])
    if widget["value"] is not None:
        html += format_html(' value="{}"', widget["value"])
    for name, value in widget["attrs"].items():
        if value is True:
            html += format_html(" {}", name)
        elif value is not False:
            html += format_html(' {}="{}"', name, value)
    return format_html("{}>", html)  # every piece escaped by format_html; no mark_safe


class PortalFormRenderer(DjangoTemplates):
    @cached_property
    def _stock_inputs(self) -> frozenset[str]:
        """The input templates this engine finds in Django itself (none overridden by an app)."""
        names = [f"django/forms/widgets/{t}.html" for t in INPUT_TYPES]
        shared = ["django/forms/widgets/input.html", "django/forms/widgets/attrs.html"]
        if any(Path(self.get_template(n).origin.name).parent != DJANGO_WIDGETS for n in shared):
            return frozenset()
        return frozenset(n for n in names if Path(self.get_template(n).origin.name).parent == DJANGO_WIDGETS)

    def render(self, template_name, context, request=None):
        if template_name in self._stock_inputs:
            return input_html(context["widget"])
        return super().render(template_name, context, request)
