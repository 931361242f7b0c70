"""The Terminal takes over OvernightReport and its existing table (made by ccass_portal's
migration 0002): a change of state only, no table is made or dropped."""

import django.db.models.deletion
from django.db import migrations, models

import ccass_portal.clock


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        ("ccass_portal", "0004_overnightreport_moves_to_terminal"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],  # the table exists since ccass_portal 0002
            state_operations=[
                migrations.CreateModel(
                    name="OvernightReport",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("business_date", models.DateField()),
                        ("report_id", models.CharField(help_text="The report's code, e.g. CCASS-ACTS.", max_length=16)),
                        ("name", models.CharField(help_text="e.g. CCASS Activity Statement.", max_length=100)),
                        ("content", models.TextField(help_text="The report as CSV text.")),
                        ("created_at", models.DateTimeField(default=ccass_portal.clock.now)),
                        (
                            "participant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="overnight_reports",
                                to="accounts.participant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "ccass_portal_overnightreport",
                        "ordering": ["-business_date", "report_id"],
                        "indexes": [
                            models.Index(
                                fields=["participant", "-business_date"], name="ccass_porta_partici_d6672d_idx"
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("participant", "business_date", "report_id"),
                                name="one_report_per_firm_date_kind",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
