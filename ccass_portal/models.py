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


class DemoClock(models.Model):
    """How far the demo has moved simulated time ahead of real time (PORTAL_DEMO only).

    One row (pk 1), kept in the database so that every web and worker process
    sees the same simulated time. Read only through `ccass_portal.clock`.
    """

    SINGLETON = 1

    offset_seconds = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "demo clock"

    def __str__(self) -> str:
        return f"demo clock +{self.offset_seconds} s"
