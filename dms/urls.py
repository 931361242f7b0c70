"""DMS at /dms/: its landing page, the logon (shared with the terminal) and its menus."""

from django.urls import path

from accounts.urls import logon_urlpatterns
from ccass_portal.lazy_views import lazy

app_name = "dms"

urlpatterns = [
    path("", lazy("dms.views.landing"), name="landing"),
    path("home/", lazy("dms.views.home"), name="home"),
    # Maintain User Profile
    path("profiles/create/", lazy("dms.profile_views.create"), name="create"),
    path("profiles/change/", lazy("dms.profile_views.change_prompt"), name="change-prompt"),
    path("profiles/enquire/", lazy("dms.profile_views.enquire_prompt"), name="enquire-prompt"),
    path("profiles/delete/", lazy("dms.profile_views.delete_prompt"), name="delete-prompt"),
    path("profiles/<str:user_id>/change/", lazy("dms.profile_views.change"), name="change"),
    path("profiles/<str:user_id>/enquire/", lazy("dms.profile_views.enquire"), name="enquire"),
    path("profiles/<str:user_id>/delete/", lazy("dms.profile_views.delete"), name="delete"),
    # Maker-checker
    path("requests/", lazy("dms.request_views.pending"), name="requests"),
    path("requests/<int:request_id>/", lazy("dms.request_views.change_request"), name="request"),
    path("requests/<int:request_id>/passkey/", lazy("dms.pending_views.decide"), name="passkey-decide"),
    # View Listings, View Reports
    path("listings/user-profiles/", lazy("dms.report_views.listing"), name="listing"),
    path("reports/", lazy("dms.report_views.reports"), name="reports"),
    path("reports/requests/", lazy("dms.report_views.audit_report"), name="audit-report"),
    path("reports/2fa-readiness/", lazy("dms.report_views.readiness_report"), name="readiness-report"),
    path("reports/migration-readiness/", lazy("dms.dashboard_views.firm_dashboard"), name="dashboard"),
    *logon_urlpatterns,
]
