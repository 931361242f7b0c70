"""View Listings and View Reports: each a page, or with ?format=csv the same rows as a
download (`dms.exports`). The rows come from `dms.selectors`; the markup from templates."""

from __future__ import annotations

from django.utils.translation import gettext as _

from . import profiles, selectors
from .exports import csv_response
from .models import ChangeRequest
from .views import da_page, page


def table_or_csv(request, template: str, *, filename: str, columns, rows, footer=(), **context):
    """A report as a page, or with ?format=csv as a download of the same rows and footer."""
    if request.GET.get("format") == "csv":
        return csv_response(f"{filename}-{request.user.participant.participant_id}.csv", columns, rows, footer)
    return page(request, template, {"columns": columns, "rows": rows, "footer": footer, **context})


@da_page
def listing(request, participant):
    rows, footer = selectors.profile_listing(participant)
    return table_or_csv(
        request,
        "dms/listing.html",
        filename="user-profile-listing",
        columns=selectors.LISTING_COLUMNS,
        rows=rows,
        footer=footer.lines,
        participant=participant,
    )


@da_page
def reports(request, participant):
    return page(request, "dms/reports.html")


TRAIL_COLUMNS = ("Request", "Function", "User ID", "Maker", "Checker", "Status", "Prepared", "Decided", "Reason")


def _trail_rows(participant, *, for_csv: bool):
    """One row per request. The CSV carries the whole before and after; the page what changed,
    with a link to the request's own page."""
    for cr in selectors.request_trail(participant):
        row = (
            cr.pk,  # the page makes it a link to the request (dms/audit_report.html)
            cr.get_kind_display(),
            cr.subject_user_id,
            cr.maker_id,
            cr.checker_id or "",
            cr.get_status_display(),
            cr.created_at.isoformat(timespec="seconds"),
            cr.decided_at.isoformat(timespec="seconds") if cr.decided_at else "",
            cr.reason,
        )
        if for_csv:
            yield row + (
                "; ".join(f"{label}={value}" for label, value in profiles.rows(cr.before)),
                "; ".join(f"{label}={value}" for label, value in profiles.rows(cr.payload)),
            )
        else:
            yield row + (_changes(cr),)


def _changes(cr: ChangeRequest) -> str:
    if cr.kind == ChangeRequest.Kind.DELETE:
        return "(profile deleted)"
    return "; ".join(
        f"{label}: {before} -> {after}" if cr.kind == ChangeRequest.Kind.CHANGE else f"{label}: {after}"
        for label, before, after, changed in profiles.compare(cr.before, cr.payload)
        if changed and after != ""
    )


@da_page
def audit_report(request, participant):
    for_csv = request.GET.get("format") == "csv"
    # The page's headings in the reader's language; the CSV keeps the English ones.
    columns = TRAIL_COLUMNS + ("Before", "After") if for_csv else tuple(_(c) for c in TRAIL_COLUMNS + ("Changes",))
    return table_or_csv(
        request,
        "dms/audit_report.html",
        filename="dms-requests",
        columns=columns,
        rows=_trail_rows(participant, for_csv=for_csv),
    )


@da_page
def readiness_report(request, participant):
    readiness, rows = selectors.twofa_readiness(participant)
    return table_or_csv(
        request,
        "dms/readiness_report.html",
        filename="2fa-readiness",
        columns=selectors.READINESS_COLUMNS,
        rows=rows,
        footer=readiness.lines,
    )
