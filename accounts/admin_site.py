"""Django admin for HKEX operators, behind a verified 2FA session (SECURITY.md 26)."""

from django.contrib import admin
from django.shortcuts import redirect


class PortalAdminSite(admin.AdminSite):
    site_header = "HKEX back-office"
    site_title = "HKEX back-office"
    index_title = "Participants and user accounts"

    def has_permission(self, request):
        from .logon import is_strongly_authenticated

        return request.user.is_active and request.user.is_staff and is_strongly_authenticated(request)

    def login(self, request, extra_context=None):
        # The admin has no password-only login: operators log on with 2FA, at the logon of
        # the portal the admin's pages belong to (accounts.logon.PORTALS).
        from .logon import portal_for_path

        return redirect(portal_for_path(request.path).url_of("login"))
