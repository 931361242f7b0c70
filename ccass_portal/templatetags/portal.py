"""Template helpers: the seeds' date formats in Hong Kong time, accessible form widgets, and the
rows of large tables."""

import html

from django import template
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.safestring import mark_safe

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


CELL_BREAK = "\x00"  # cannot occur in a profile: the forms refuse NUL and PostgreSQL cannot store it


@register.filter
def table_body(rows):
    """The <tr> rows of a large table of text, every cell escaped. One pass here rather than a
    template loop over the cells: a User Profile Listing of 10,000 profiles takes ~50 ms so and
    ~1.2 s by the loop (docs/benchmarks.md). A row is escaped in one call, its cells joined."""

    def row_html(row) -> str:
        cells = html.escape(CELL_BREAK.join(map(str, row))).replace(CELL_BREAK, "</td><td>")
        return f"<tr><td>{cells}</td></tr>"

    # Every cell was escaped just above.
    return mark_safe("\n".join(map(row_html, rows)))  # nosec B308 B703
