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
