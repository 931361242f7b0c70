"""Overnight Report Download: each firm's reports for a business date, made each night.

`generate_reports` (a write) makes a firm's reports for one business date and is
idempotent: running it twice makes nothing twice. `generate_nightly_reports` is
what the nightly Celery task calls. `reports_for` (a read) lists only the
person's own firm's reports; `download_report` returns one of them and writes
one audit row, and answers "not found" for another firm's report or an unknown id.

The figures are made up (a simulation), but stable: the same firm, date and
report always give the same content.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

from django.db import IntegrityError, transaction

from accounts import audit
from accounts.audit import Event
from accounts.models import Participant
from accounts.service_hours import previous_business_day
from ccass_portal import clock

from .models import OvernightReport

# (report id, name, columns) per clearing house.
CCASS_REPORTS = [
    ("CCASS-ACTS", "CCASS Activity Statement", ["Stock Code", "Movement", "Quantity"]),
    ("CCASS-MONL", "Statement of Money Ledger", ["Entry", "Currency", "Amount"]),
    ("CCASS-SSRP", "Settlement Report", ["Stock Code", "Position", "Quantity"]),
]
CCMS_REPORTS = [
    ("CCMS-COLL", "CCMS Collateral Movement Report", ["Collateral", "Movement", "Amount"]),
    ("CCMS-MARG", "CCMS Margin Report", ["Account", "Currency", "Amount"]),
]
REPORTS_BY_HOUSE = {"HKSCC": CCASS_REPORTS, "HKCC": CCMS_REPORTS, "SEOCH": CCMS_REPORTS}
SAMPLE_VALUES = {
    "Stock Code": ["00001", "00005", "00388", "00700", "00939", "01299", "02318", "03690"],
    "Movement": ["DELIVER", "RECEIVE", "DEPOSIT", "WITHDRAW"],
    "Entry": ["Money settlement", "Stamp duty", "CCASS fee", "Dividend"],
    "Currency": ["HKD", "USD", "CNY"],
    "Position": ["SETTLED", "PENDING", "FAILED"],
    "Collateral": ["Cash HKD", "Cash USD", "Exchange Fund Notes", "US Treasury"],
    "Account": ["HOUSE", "CLIENT-OMNIBUS", "CLIENT-SEG"],
}


def _stable_numbers(*parts: str):
    """An endless stream of stable pseudo-random integers (made-up figures, not secrets)."""
    counter = 0
    while True:
        digest = hashlib.sha256("|".join([*parts, str(counter)]).encode()).digest()
        counter += 1
        yield from (int.from_bytes(digest[i : i + 4], "big") for i in range(0, 32, 4))


def render_report(participant: Participant, business_date: date, report_id: str, name: str, columns: list[str]) -> str:
    numbers = _stable_numbers(participant.participant_id, business_date.isoformat(), report_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name])
    writer.writerow(["Participant ID", participant.participant_id, "Participant Name", participant.name])
    writer.writerow(["Business Date", f"{business_date:%d/%m/%Y}", "Report ID", report_id])
    writer.writerow(columns)
    for _ in range(3 + next(numbers) % 6):
        row = []
        for column in columns:
            if column in SAMPLE_VALUES:
                choices = SAMPLE_VALUES[column]
                row.append(choices[next(numbers) % len(choices)])
            else:  # Quantity or Amount
                row.append(f"{next(numbers) % 1_000_000 * 100:,}")
        writer.writerow(row)
    writer.writerow(["END OF REPORT"])
    return out.getvalue()


def generate_reports(*, participant: Participant, business_date: date) -> list[OvernightReport]:
    """The firm's overnight reports for `business_date`; existing ones are kept as they are."""
    reports = []
    for report_id, name, columns in REPORTS_BY_HOUSE.get(participant.clearing_house, CCASS_REPORTS):
        existing = OvernightReport.objects.filter(
            participant=participant, business_date=business_date, report_id=report_id
        ).first()
        if existing is None:
            try:
                with transaction.atomic():
                    existing = OvernightReport.objects.create(
                        participant=participant,
                        business_date=business_date,
                        report_id=report_id,
                        name=name,
                        content=render_report(participant, business_date, report_id, name, columns),
                    )
            except IntegrityError:  # another run made it meanwhile
                existing = OvernightReport.objects.get(
                    participant=participant, business_date=business_date, report_id=report_id
                )
        reports.append(existing)
    return reports


def last_business_days(count: int, *, before: date | None = None) -> list[date]:
    """The `count` business days before `before` (default: today), newest first."""
    day = before or clock.today()
    days = []
    for _ in range(count):
        day = previous_business_day(day)
        days.append(day)
    return days


def generate_nightly_reports(business_date: date | None = None) -> int:
    """Every firm's reports for `business_date` (default: the last business day before today).
    Returns how many reports exist for that date."""
    business_date = business_date or last_business_days(1)[0]
    return sum(
        len(generate_reports(participant=participant, business_date=business_date))
        for participant in Participant.objects.all()
    )


def reports_for(user) -> list[OvernightReport]:
    """The person's own firm's reports, newest business date first (no content loaded)."""
    if user.participant_id is None:
        return []
    return list(
        OvernightReport.objects.filter(participant_id=user.participant_id)
        .select_related("participant")
        .defer("content")
    )


class ReportNotFound(LookupError):
    """Not one of the person's firm's reports (or no such report); the view answers 404."""


def download_report(request, user, report_pk: int) -> OvernightReport:
    """One of the firm's reports, for download, with one audit row. Another firm's
    report and an unknown id are both "not found", and change nothing."""
    report = (
        OvernightReport.objects.filter(pk=report_pk, participant_id=user.participant_id)
        .select_related("participant")
        .first()
    )
    if report is None or user.participant_id is None:
        raise ReportNotFound("No such report.")
    audit.record(
        Event.REPORT_DOWNLOADED,
        request=request,
        actor=user,
        report=report.pk,
        report_id=report.report_id,
        business_date=report.business_date.isoformat(),
    )
    return report
