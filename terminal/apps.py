from django.apps import AppConfig


class TerminalConfig(AppConfig):
    """The CCASS/CCMS Terminal: landing, Online Functions menu, Overnight Report Download, /sso/."""

    name = "terminal"
    verbose_name = "CCASS/CCMS Terminal"
