"""OvernightReport moved from ccass_portal to the Terminal's app (issue 16 item 4) by a change of
state only: the table ccass_portal_overnightreport and its rows stay."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from terminal.models import OvernightReport

pytestmark = pytest.mark.django_db


def test_moving_the_model_to_the_terminal_keeps_the_table_and_every_report(participant):
    before = [("ccass_portal", "0003_democlock")]  # OvernightReport still ccass_portal's
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("ccass_portal", "OvernightReport")
    old.objects.create(
        participant_id=participant.pk,
        business_date=date(2024, 11, 18),
        report_id="CCASS-ACTS",
        name="CCASS Activity Statement",
        content="CCASS Activity Statement\nEND OF REPORT\n",
    )
    executor = MigrationExecutor(connection)
    executor.migrate([("terminal", "0001_overnightreport_from_ccass_portal")])
    kept = OvernightReport.objects.get(participant=participant, report_id="CCASS-ACTS")
    assert kept.content == "CCASS Activity Statement\nEND OF REPORT\n"
    assert OvernightReport._meta.db_table == "ccass_portal_overnightreport"
