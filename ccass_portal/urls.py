"""The root URLs: each portal's app under its path (the wiring, above every part)."""

from django.contrib import admin
from django.urls import include, path

from terminal import views as terminal_views

urlpatterns = [
    path("sso/", terminal_views.sso, name="sso"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switch
    path("", include("terminal.urls")),
    path("dms/", include("dms.urls")),
    path("backoffice/", include("dms.backoffice_urls")),
    path("demo/", include("demo.urls")),
    path("admin/", admin.site.urls),
]

# The portal's own error pages, rendered without the database (ccass_portal/errors.py).
handler400 = "ccass_portal.errors.bad_request"
handler403 = "ccass_portal.errors.permission_denied"
handler404 = "ccass_portal.errors.page_not_found"
handler500 = "ccass_portal.errors.server_error"
