"""Template helpers: the seeds' date formats in Hong Kong time, and accessible form widgets."""

from django import template
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format

register = template.Library()


@register.filter
def seed_date(value, fmt="d-M-y"):
    """DD-Mon-YY (or another format) in Hong Kong time, with English month names as on
    the seeds' screens whatever the page's language."""
    if not value:
        return ""
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        value = timezone.localtime(value)
    with translation.override("en"):
        return date_format(value, fmt)


@register.simple_tag
def accessible_widget(field):
    """The field's widget tied to its error message and marked invalid when it has one."""
    attrs = {}
    if field.errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.id_for_label}-error"
    elif field.help_text:
        attrs["aria-describedby"] = f"{field.id_for_label}-help"
    return field.as_widget(attrs=attrs)


@register.filter
def seconds_until(value) -> int:
    """Whole seconds from the portal clock's now until `value` (0 if past)."""
    from ccass_portal import clock

    if not value:
        return 0
    return max(0, int((value - clock.now()).total_seconds() + 0.999))


@register.filter
def mmss(seconds) -> str:
    seconds = int(seconds or 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


@register.simple_tag
def portal_epoch_ms() -> int:
    """The portal clock's now in ms, for the countdown script (the demo clock may run ahead)."""
    from ccass_portal import clock

    return int(clock.now().timestamp() * 1000)


@register.filter
def epoch_ms(value) -> int:
    return int(value.timestamp() * 1000) if value else 0
