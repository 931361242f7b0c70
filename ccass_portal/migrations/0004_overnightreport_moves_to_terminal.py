"""OvernightReport moves to the Terminal's app (terminal/models.py): only Django's idea of
which app holds it changes. Its table, ccass_portal_overnightreport, and every row stay;
terminal's migration 0001 takes the model over with the same table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ccass_portal", "0003_democlock"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OvernightReport")],
            database_operations=[],  # the table stays: terminal.OvernightReport uses it
        ),
    ]
