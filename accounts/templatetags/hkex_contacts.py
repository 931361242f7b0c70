"""{% hkex_contacts who %}: the §7 contact block for a person or a typed User ID
(accounts.contacts); both terminals' when neither tells."""

from django import template

from accounts.contacts import contacts_for

register = template.Library()


@register.inclusion_tag("accounts/_contacts.html")
def hkex_contacts(who=None):
    return {"contacts": contacts_for(who)}
