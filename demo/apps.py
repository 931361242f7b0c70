from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo's own controls (PORTAL_DEMO): the demo clock and outbox pages, and seed_demo."""

    name = "demo"
    verbose_name = "Demo"
