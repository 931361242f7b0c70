"""The HKEX back-office at /backoffice/: operators log on with 2FA, then work here or in /admin/."""

from django.urls import path

from accounts.urls import logon_urlpatterns

from . import backoffice_views as views
from . import dashboard_views

app_name = "backoffice"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    path("da3/add-da/", views.add_da, name="da3-add"),
    path("da3/da-action/", views.da_action, name="da3-action"),
    path("da3/assign-role/", views.assign_role, name="da3-assign"),
    path("da4/", views.grant_accounts, name="da4"),
    path("scard1/", views.smartcard_reset, name="scard1"),
    path("processed/", views.processed, name="processed"),
    path("migration-readiness/", dashboard_views.all_firms_dashboard, name="dashboard"),
    *logon_urlpatterns,
]
