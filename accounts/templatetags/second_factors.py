"""{{ person|factor_label }}: how the person's chosen second factor shows (DMS "OTP Enabled"),
as the factor registry (accounts.factors) names it."""

from django import template

from accounts import factors

register = template.Library()


@register.filter
def factor_label(person) -> str:
    """The chosen factor, and any held beside it (a passkey: issue 18)."""
    chosen = factors.chosen_factor_of(person)
    beside = [entry for entry in factors.held_beside() if entry.enrolled(person)]
    return ", ".join(str(entry.label) for entry in ([chosen] if chosen else []) + beside)
