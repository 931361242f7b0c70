"""The HKEX back-office at /backoffice/: operators log on with 2FA, then work here or in /admin/."""

from django.urls import path

from accounts.urls import logon_urlpatterns
from ccass_portal.lazy_views import lazy

app_name = "backoffice"

urlpatterns = [
    path("", lazy("dms.backoffice_views.landing"), name="landing"),
    path("home/", lazy("dms.backoffice_views.home"), name="home"),
    path("da3/add-da/", lazy("dms.backoffice_views.add_da"), name="da3-add"),
    path("da3/da-action/", lazy("dms.backoffice_views.da_action"), name="da3-action"),
    path("da3/assign-role/", lazy("dms.backoffice_views.assign_role"), name="da3-assign"),
    path("da4/", lazy("dms.backoffice_views.grant_accounts"), name="da4"),
    path("scard1/", lazy("dms.backoffice_views.smartcard_reset"), name="scard1"),
    path("processed/", lazy("dms.backoffice_views.processed"), name="processed"),
    path("migration-readiness/", lazy("dms.dashboard_views.all_firms_dashboard"), name="dashboard"),
    *logon_urlpatterns,
]
