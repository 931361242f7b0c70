"""DMS at /dms/: its landing page, the logon (shared with the terminal) and its menus."""

from django.urls import path

from accounts.urls import logon_urlpatterns

from . import dashboard_views, pending_views, profile_views, report_views, request_views, views

app_name = "dms"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    # Maintain User Profile
    path("profiles/create/", profile_views.create, name="create"),
    path("profiles/change/", profile_views.change_prompt, name="change-prompt"),
    path("profiles/enquire/", profile_views.enquire_prompt, name="enquire-prompt"),
    path("profiles/delete/", profile_views.delete_prompt, name="delete-prompt"),
    path("profiles/<str:user_id>/change/", profile_views.change, name="change"),
    path("profiles/<str:user_id>/enquire/", profile_views.enquire, name="enquire"),
    path("profiles/<str:user_id>/delete/", profile_views.delete, name="delete"),
    # Maker-checker
    path("requests/", request_views.pending, name="requests"),
    path("requests/<int:request_id>/", request_views.change_request, name="request"),
    path("requests/<int:request_id>/passkey/", pending_views.decide, name="passkey-decide"),
    # View Listings, View Reports
    path("listings/user-profiles/", report_views.listing, name="listing"),
    path("reports/", report_views.reports, name="reports"),
    path("reports/requests/", report_views.audit_report, name="audit-report"),
    path("reports/2fa-readiness/", report_views.readiness_report, name="readiness-report"),
    path("reports/migration-readiness/", dashboard_views.firm_dashboard, name="dashboard"),
    *logon_urlpatterns,
]
