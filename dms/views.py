"""DMS pages: the landing page and the Security Management Functions (App. A, App. D.c).

Every page after the landing page needs a full 2FA session of a DA
(`strong_session_required`) and sees only the DA's own participant: a profile
or request of another firm answers 404. Views check access, call a service in
`dms.services` (writes) or `dms.selectors` (reads), and answer.
"""

from __future__ import annotations

import csv
import html
import io
from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from accounts import user_ids
from accounts.logon import PORTALS
from accounts.models import Role
from accounts.portal_views import page_methods, render_portal, strong_session_required
from otp import services as otp_services

from . import profiles, selectors, services
from .forms import (
    AuthoriseForm,
    ChangeProfileForm,
    CreateProfileForm,
    PromptForm,
    RejectForm,
)
from .models import ChangeRequest
from .roster import roster_of
from .services import DmsRefusal


def landing(request):
    """DMS landing page (§4, §5): smartcard option until decommissioning, and OTP."""
    return render(request, "dms/landing.html", {"portal": PORTALS["dms"]})


def da_page(view):
    """A DMS function: a DA's strong session, GET (HEAD) and POST only; passes the DA's participant."""

    @strong_session_required
    @page_methods
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return view(request, request.user.participant, *args, **kwargs)

    return wrapped


def page(request, template: str, context: dict | None = None, status: int = 200):
    """Every DMS page warns while the firm is below the roster rule."""
    roster = roster_of(request.user.participant)
    return render_portal(
        request,
        template,
        {
            "roster_warning": roster.warning,
            "is_maker": request.user.role == Role.DA_MAKER,
            "is_checker": request.user.role == Role.DA_CHECKER,
            **(context or {}),
        },
        status=status,
    )


def _profile_or_404(participant, user_id: str):
    if not user_ids.ANY_USER_ID.fullmatch(user_ids.normalise_user_id(user_id)):
        raise Http404("Not a User ID.")  # also keeps NUL and other oddities away from the database
    user = selectors.profile_of(participant, user_id)
    if user is None:
        raise Http404("No such user profile in this participant.")
    return user


MAX_ID = 2**63 - 1  # BigAutoField: the largest id SQLite and PostgreSQL store


def _request_or_404(participant, request_id: int) -> ChangeRequest:
    if request_id > MAX_ID:
        raise Http404("No such request.")  # a database would refuse the number itself
    cr = selectors.request_trail(participant).filter(pk=request_id).first()
    if cr is None:
        raise Http404("No such request in this participant.")
    return cr


def _refused(form, refusal: DmsRefusal) -> None:
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, refusal.message)


def _prepare(request, form, **request_fields):
    """The maker's request from a valid profile form: the request page, or None with the
    refusal shown next to its field."""
    try:
        cr = services.prepare_request(maker=request.user, payload=form.payload(), request=request, **request_fields)
    except DmsRefusal as refusal:
        _refused(form, refusal)
        return None
    return redirect("dms:request", cr.pk)


# -- menu -----------------------------------------------------------------------------


@da_page
def home(request, participant):
    pending = selectors.pending_requests(participant).count()
    return page(request, "dms/home.html", {"pending_count": pending})


# -- Create User Profile ------------------------------------------------------------------


def _create_initial(participant) -> dict:
    return {
        "internal_external": "EXTERNAL",
        "status": "ENABLED",
        "clearing_house_options": profiles.clearing_house_options(participant)[0],
        "access_channel": "C3T",
        "transaction_limit": "0.00",
    }


@da_page
def create(request, participant):
    status = 200
    if request.method == "POST" and request.POST.get("action") == "generate":
        initial = {**_create_initial(participant), **request.POST.dict()}
        initial["user_groups"] = request.POST.getlist("user_groups")
        try:
            initial["user_id"] = services.propose_user_id(participant)
        except user_ids.QuotaExhausted as exc:
            form = CreateProfileForm(request.POST, participant=participant)
            form.is_valid()
            form.errors.clear()  # only the quota matters here
            form.add_error("user_id", str(exc))
            status = 400
        else:
            form = CreateProfileForm(initial=initial, participant=participant)
    elif request.method == "POST":
        form = CreateProfileForm(request.POST, participant=participant)
        if form.is_valid():
            prepared = _prepare(
                request, form, kind=ChangeRequest.Kind.CREATE, subject_user_id=form.cleaned_data["user_id"]
            )
            if prepared is not None:
                return prepared
        status = 400
    else:
        form = CreateProfileForm(participant=participant, initial=_create_initial(participant))
    return page(
        request,
        "dms/create.html",
        {"form": form, "participant": participant, "spare": participant.spare_accounts()},
        status=status,
    )


# -- the prompts of Change, Enquire and Delete -----------------------------------------------

PROMPTS = {
    "change": (gettext_lazy("Change User Profile"), "dms:change"),
    "enquire": (gettext_lazy("Enquire User Profile"), "dms:enquire"),
    "delete": (gettext_lazy("Delete User Profile"), "dms:delete"),
}


def _prompt(request, participant, purpose: str):
    title, detail_url = PROMPTS[purpose]
    form = PromptForm(request.GET or None)
    results = None
    status = 200
    if request.GET and form.is_valid():
        if request.GET.get("action") == "list":
            results = selectors.search_profiles(
                participant, by=form.cleaned_data["search_by"] or "user_id", text=form.cleaned_data["search_filter"]
            )
        else:
            user_id = user_ids.normalise_user_id(form.cleaned_data["user_id"])
            if selectors.profile_of(participant, user_id) is not None:
                return redirect(detail_url, user_id)
            form.add_error("user_id", services.NOT_FOUND % {"user_id": user_id or "(blank)"})
            status = 400
    elif request.GET:
        status = 400
    return page(
        request,
        "dms/prompt.html",
        {"form": form, "title": title, "results": results, "detail_url": detail_url, "purpose": purpose},
        status=status,
    )


@da_page
def change_prompt(request, participant):
    return _prompt(request, participant, "change")


@da_page
def enquire_prompt(request, participant):
    return _prompt(request, participant, "enquire")


@da_page
def delete_prompt(request, participant):
    return _prompt(request, participant, "delete")


# -- Change / Enquire / Delete of one profile ----------------------------------------------


@sensitive_post_parameters("smartcard_password")  # kept out of error reports (docs/security.md, check 15)
@da_page
def change(request, participant, user_id):
    subject = _profile_or_404(participant, user_id)
    offered = services.smartcard_reset_offered(subject)
    before = profiles.snapshot(subject)
    status = 200
    if request.method == "POST":
        form = ChangeProfileForm(request.POST, subject=subject, smartcard_reset=offered)
        if form.is_valid():
            prepared = _prepare(
                request,
                form,
                kind=ChangeRequest.Kind.CHANGE,
                subject_user_id=subject.user_id,
                smartcard_password=form.cleaned_data.get("smartcard_password", ""),
            )
            if prepared is not None:
                return prepared
        status = 400
    else:
        initial = {field: profiles.from_json(field, before[field]) for field in profiles.PROFILE_FIELDS}
        form = ChangeProfileForm(initial=initial, subject=subject, smartcard_reset=offered)
    pending = services.pending_request_for(participant, subject.user_id)
    unlock_field = form["unlock_reset"] if "unlock_reset" in form.fields else None
    return page(
        request,
        "dms/change.html",
        {"form": form, "subject": subject, "pending": pending, "unlock_field": unlock_field},
        status=status,
    )


@da_page
def enquire(request, participant, user_id):
    subject = _profile_or_404(participant, user_id)
    return page(request, "dms/profile.html", {"subject": subject, "title": _("Enquire User Profile")})


@da_page
def delete(request, participant, user_id):
    subject = _profile_or_404(participant, user_id)
    status = 200
    error = ""
    if request.method == "POST":
        try:
            cr = services.prepare_request(
                maker=request.user, kind=ChangeRequest.Kind.DELETE, subject_user_id=subject.user_id, request=request
            )
        except DmsRefusal as refusal:
            error, status = refusal.message, 400
        else:
            return redirect("dms:request", cr.pk)
    return page(
        request,
        "dms/profile.html",
        {"subject": subject, "title": _("Delete User Profile"), "delete": True, "error": error},
        status=status,
    )


# -- a request: the checker's fields, Confirm; reject; withdraw ---------------------------------


def _confirm(request, cr: ChangeRequest):
    """ "Checker ID", "Authorisation Code", "Confirm"."""
    form = AuthoriseForm(request.POST)
    if form.is_valid():
        checker_id = form.cleaned_data["checker_id"]
        try:
            services.authorise_request(
                cr.pk,
                participant_id=cr.participant_id,
                checker_id=checker_id,
                code=form.cleaned_data["authorisation_code"],
                request=request,
            )
        except DmsRefusal as refusal:
            _refused(form, refusal)
        else:
            return redirect("dms:request", cr.pk)
    return {"authorise_form": form}


def _send_code(request, cr: ChangeRequest):
    """An e-mail Authorisation Code for a checker on e-mail OTP."""
    form = AuthoriseForm(request.POST, code_required=False)
    if form.is_valid():
        checker_id = form.cleaned_data["checker_id"]
        try:
            result = services.request_authorisation_code(
                cr.pk,
                participant_id=cr.participant_id,
                checker_id=checker_id,
                request=request,
            )
        except DmsRefusal as refusal:
            _refused(form, refusal)
        except otp_services.DeliveryUnavailable:
            form.add_error(None, _("The Authorisation Code could not be sent just now. Please try again."))
        else:
            if result.sent:
                messages.success(request, _("An Authorisation Code was sent to the checker's registered e-mail."))
            else:
                messages.info(
                    request,
                    _("A code was sent recently. A new one can be sent in %(wait)s.") % {"wait": result.wait_text()},
                )
            return redirect(reverse("dms:request", args=[cr.pk]) + f"?checker={checker_id}")
    return {"authorise_form": form}


def _reject(request, cr: ChangeRequest):
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.reject_request(cr.pk, checker=request.user, reason=form.cleaned_data["reason"], request=request)
        except DmsRefusal as refusal:
            _refused(form, refusal)
        else:
            messages.success(request, _("The request was rejected."))
            return redirect("dms:requests")
    return {"reject_form": form}


def _withdraw(request, cr: ChangeRequest):
    try:
        services.withdraw_request(cr.pk, maker=request.user, request=request)
    except DmsRefusal as refusal:
        messages.error(request, refusal.message)
        return {}
    messages.success(request, _("The request was withdrawn."))
    return redirect("dms:requests")


REQUEST_ACTIONS = {"confirm": _confirm, "send-code": _send_code, "reject": _reject, "withdraw": _withdraw}


@sensitive_post_parameters("authorisation_code")  # kept out of error reports (docs/security.md, check 15)
@da_page
def change_request(request, participant, request_id):
    """A request's confirmation page. Each action answers with a redirect, or with its
    form (errors next to the fields) and status 400."""
    cr = _request_or_404(participant, request_id)
    checker_id = request.GET.get("checker", "")[:16] or (
        request.user.user_id if request.user.role == Role.DA_CHECKER else ""
    )
    forms = {"authorise_form": AuthoriseForm(initial={"checker_id": checker_id}), "reject_form": RejectForm()}
    status = 200
    if request.method == "POST":
        action = REQUEST_ACTIONS.get(request.POST.get("action"))
        outcome = action(request, cr) if action is not None else {}
        if isinstance(outcome, HttpResponse):
            return outcome
        forms.update(outcome)
        status = 400
    cr.refresh_from_db()
    return page(
        request,
        "dms/request.html",
        {
            "cr": cr,
            "comparison": profiles.compare(cr.before, cr.payload),
            "unlock_label": profiles.LABELS["unlock_reset"],
            **forms,
        },
        status=status,
    )


@da_page
def pending(request, participant):
    return page(request, "dms/pending.html", {"requests": selectors.pending_requests(participant)})


# -- View Listings, View Reports ----------------------------------------------------------------


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value) -> str:
    """No spreadsheet formula from a CSV cell."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header, rows, footer=()) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_safe_cell(cell) for cell in row] for row in rows)
    writer.writerows(footer)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


CELL_BREAK = "\x00"  # cannot occur in a profile: the forms refuse NUL and PostgreSQL cannot store it


def table_rows(rows):
    """The <tr> rows of a report, every cell escaped. Built here rather than by a template
    loop: a listing of 10,000 profiles renders in tens of milliseconds. A row of plain text
    is escaped in one call; a row holding safe HTML (a link) cell by cell."""

    def row_html(row) -> str:
        if any(isinstance(value, SafeString) for value in row):
            cells = "</td><td>".join(
                value if isinstance(value, SafeString) else html.escape(str(value)) for value in row
            )
        else:
            cells = html.escape(CELL_BREAK.join(map(str, row))).replace(CELL_BREAK, "</td><td>")
        return f"<tr><td>{cells}</td></tr>"

    # Every cell was escaped just above, or is already safe HTML (format_html).
    return mark_safe("\n".join(map(row_html, rows)))  # nosec B308 B703


def table_or_csv(request, template: str, *, filename: str, columns, rows, footer=(), **context):
    """A report as a page, or with ?format=csv as a download of the same rows and footer."""
    if request.GET.get("format") == "csv":
        return csv_response(f"{filename}-{request.user.participant.participant_id}.csv", columns, rows, footer)
    return page(request, template, {"columns": columns, "rows": table_rows(rows), "footer": footer, **context})


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
            cr.pk if for_csv else format_html('<a href="{}">#{}</a>', reverse("dms:request", args=[cr.pk]), cr.pk),
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
