from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    default = True
    name = "ccass_portal"
    verbose_name = "Portal"

    def ready(self):
        from . import checks  # noqa: F401 - registers the portal's system checks


class PortalAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "accounts.admin_site.PortalAdminSite"
