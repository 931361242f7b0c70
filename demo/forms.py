"""The demo clock page's form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import demo_clock

TO_DATE = "to_date"
RESET = "reset"


class DemoClockForm(forms.Form):
    """One button press on the demo clock page: a step forward, a date to move to, or reset."""

    action = forms.ChoiceField(
        choices=[(key, label) for key, (_by, label, _shows) in demo_clock.STEPS.items()]
        + [(TO_DATE, _("Move to date")), (RESET, _("Reset to real time"))],
        error_messages={
            "required": _("Choose what the demo clock should do. Nothing was changed."),
            "invalid_choice": _("Unknown demo clock action. Nothing was changed."),
        },
    )
    date = forms.DateField(
        label=_("Date"),  # the browser's date field shows the date in its own format
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a real date as YYYY-MM-DD (for example 2026-12-31). Nothing was changed.")},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == TO_DATE and not cleaned.get("date") and "date" not in self.errors:
            self.add_error("date", _("Enter the date to move to, as YYYY-MM-DD. Nothing was changed."))
        return cleaned

    def apply(self, request):
        """Make the move (may raise demo_clock.DemoClockRefused)."""
        action = self.cleaned_data["action"]
        if action == RESET:
            return demo_clock.reset(request=request)
        if action == TO_DATE:
            return demo_clock.move_to_date(self.cleaned_data["date"], request=request)
        return demo_clock.move_forward(action, request=request)
