"""The demo's pages at /demo/ (no namespace: "demo-outbox", "demo-clock"). Each answers 404
outside demo mode."""

from django.urls import path

from ccass_portal.lazy_views import lazy

urlpatterns = [
    path("outbox/", lazy("demo.views.demo_outbox"), name="demo-outbox"),
    path("clock/", lazy("demo.views.demo_clock_page"), name="demo-clock"),
]
