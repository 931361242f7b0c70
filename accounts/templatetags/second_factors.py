"""{{ person|factor_label }}: how the person's chosen second factor shows (DMS "OTP Enabled"),
as the factor registry (accounts.factors) names it."""

from django import template

from accounts import factors

register = template.Library()


@register.filter
def factor_label(person) -> str:
    entry = factors.chosen_factor_of(person)
    return entry.label if entry is not None else ""
