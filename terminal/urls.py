"""The Terminal's URLs, under the namespace "terminal" at /, with the logon pages (accounts.urls)."""

from django.urls import path

from accounts.urls import logon_urlpatterns

from . import views

app_name = "terminal"

urlpatterns = [
    path("", views.terminal_landing, name="landing"),
    path("terminal/", views.terminal_home, name="home"),
    path("terminal/functions/<slug:slug>/", views.terminal_function, name="function"),
    path("reports/", views.overnight_reports, name="reports"),
    path("reports/<int:report_id>/", views.overnight_report_download, name="report-download"),
    *logon_urlpatterns,
]
