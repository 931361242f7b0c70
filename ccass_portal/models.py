from django.db import models

from . import clock


class DemoMail(models.Model):
    """A message kept by the demo outbox instead of being sent (PORTAL_DEMO, no EMAIL_URL)."""

    sent_at = models.DateTimeField(default=clock.now, db_index=True)
    from_email = models.CharField(max_length=254)
    to = models.TextField(help_text="Recipients, one per line.")
    subject = models.CharField(max_length=255)
    body = models.TextField()

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject} -> {self.to}"
