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


class OvernightReport(models.Model):
    """One overnight report of one participant for one business date (Overnight Report Download)."""

    participant = models.ForeignKey("accounts.Participant", on_delete=models.CASCADE, related_name="overnight_reports")
    business_date = models.DateField()
    report_id = models.CharField(max_length=16, help_text="The report's code, e.g. CCASS-ACTS.")
    name = models.CharField(max_length=100, help_text="e.g. CCASS Activity Statement.")
    content = models.TextField(help_text="The report as CSV text.")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-business_date", "report_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "business_date", "report_id"], name="one_report_per_firm_date_kind"
            )
        ]
        indexes = [models.Index(fields=["participant", "-business_date"])]

    def __str__(self) -> str:
        return f"{self.participant.participant_id} {self.report_id} {self.business_date:%Y-%m-%d}"

    @property
    def filename(self) -> str:
        return f"{self.participant.participant_id}_{self.report_id}_{self.business_date:%Y%m%d}.csv"
