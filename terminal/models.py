"""The Terminal's model: the overnight reports of Overnight Report Download."""

from django.db import models

from ccass_portal import clock


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
        indexes = [models.Index(fields=["participant", "-business_date"], name="ccass_porta_partici_d6672d_idx")]
        # The table made by ccass_portal's migration 0002, before the Terminal had an app of its own.
        db_table = "ccass_portal_overnightreport"

    def __str__(self) -> str:
        return f"{self.participant.participant_id} {self.report_id} {self.business_date:%Y-%m-%d}"

    @property
    def filename(self) -> str:
        return f"{self.participant.participant_id}_{self.report_id}_{self.business_date:%Y%m%d}.csv"
