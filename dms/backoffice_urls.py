"""The HKEX back-office at /backoffice/: operators log on with 2FA, then work here or in /admin/."""

from django.urls import path

from accounts.urls import logon_urlpatterns

from . import backoffice_views as views

app_name = "backoffice"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    *logon_urlpatterns,
]
