"""The demo's pages at /demo/ (no namespace: "demo-outbox", "demo-clock"). Each answers 404
outside demo mode."""

from django.urls import path

from . import views

urlpatterns = [
    path("outbox/", views.demo_outbox, name="demo-outbox"),
    path("clock/", views.demo_clock_page, name="demo-clock"),
]
