from django.contrib import admin
from django.urls import include, path

from accounts.urls import logon_urlpatterns

from . import views

terminal_urlpatterns = [
    path("", views.terminal_landing, name="landing"),
    path("terminal/", views.terminal_home, name="home"),
    path("terminal/functions/<slug:slug>/", views.terminal_function, name="function"),
    path("reports/", views.overnight_reports, name="reports"),
    path("reports/<int:report_id>/", views.overnight_report_download, name="report-download"),
    *logon_urlpatterns,
]

urlpatterns = [
    path("sso/", views.sso, name="sso"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switch
    path("", include((terminal_urlpatterns, "terminal"))),
    path("dms/", include("dms.urls")),
    path("backoffice/", include("dms.backoffice_urls")),
    # Exists only in demo mode: the view answers 404 otherwise.
    path("demo/outbox/", views.demo_outbox, name="demo-outbox"),
    path("demo/clock/", views.demo_clock_page, name="demo-clock"),
    path("admin/", admin.site.urls),
]

# The portal's own error pages, rendered without the database (ccass_portal/errors.py).
handler400 = "ccass_portal.errors.bad_request"
handler403 = "ccass_portal.errors.permission_denied"
handler404 = "ccass_portal.errors.page_not_found"
handler500 = "ccass_portal.errors.server_error"
