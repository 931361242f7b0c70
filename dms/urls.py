"""DMS at /dms/: its landing page, the logon (shared with the terminal) and its menus."""

from django.urls import path

from accounts.urls import logon_urlpatterns

from . import views

app_name = "dms"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    *logon_urlpatterns,
]
