"""The migration readiness dashboard's pages: a DA's own firm under /dms/, every firm
for HKEX operators under /backoffice/. Each is also a CSV download (?format=csv)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import Participant
from accounts.portal_views import render_portal

from . import dashboard
from .backoffice_views import operator_page
from .exports import csv_response
from .views import da_page, page


def _csv(filename: str, rows_by_heading: list[tuple[tuple, list[tuple]]]):
    """Several small tables in one CSV: each table's header, then its rows, then a blank line."""
    header, rows = rows_by_heading[0]
    footer = []
    for next_header, next_rows in rows_by_heading[1:]:
        footer += [(), next_header, *next_rows]
    return csv_response(filename, header, rows, footer)


FIGURE_COLUMNS = (_("Figure"), _("Number"))


@da_page
def firm_dashboard(request, participant):
    firm = dashboard.firm_readiness(participant)
    items = dashboard.checklist(firm)
    if request.GET.get("format") == "csv":
        return _csv(
            f"migration-readiness-{participant.participant_id}.csv",
            [
                (FIGURE_COLUMNS, dashboard.figure_lines(firm)),
                (dashboard.CHECKLIST_COLUMNS, dashboard.checklist_rows(items)),
            ],
        )
    return page(
        request,
        "dms/dashboard.html",
        {
            "firm": firm,
            "figures": dashboard.figure_lines(firm),
            "charts": dashboard.charts(firm),
            "checklist": items,
            "roster": firm.readiness.roster,
        },
    )


@operator_page
def all_firms_dashboard(request):
    firms = dashboard.firms_readiness(Participant.objects.all())
    total = dashboard.totals(firms)
    rows = [dashboard.firm_row(firm) for firm in firms]
    if request.GET.get("format") == "csv":
        return csv_response(
            "migration-readiness-all-firms.csv", dashboard.firm_columns(), rows, [dashboard.totals_row(total)]
        )
    return render_portal(
        request,
        "backoffice/dashboard.html",
        {
            "columns": dashboard.firm_columns(),
            "rows": rows,
            "totals": dashboard.totals_row(total),
            "total": total,
            "figures": dashboard.figure_lines(total),
            "charts": dashboard.charts(total),
            "checklist": dashboard.checklist(total),
        },
    )
