"""A DMS request's page: the checker's Checker ID and Authorisation Code, Confirm; reject;
withdraw; and the requests awaiting authorisation (`dms.services` decides each)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts.models import Role
from otp import services as otp_services

from . import passkey_approval, profiles, selectors, services
from .forms import AuthoriseForm, RejectForm
from .models import ChangeRequest
from .rules import DmsRefusal
from .views import da_page, page, show_refusal

MAX_ID = 2**63 - 1  # BigAutoField: the largest id SQLite and PostgreSQL store


def _request_or_404(participant, request_id: int) -> ChangeRequest:
    if request_id > MAX_ID:
        raise Http404("No such request.")  # a database would refuse the number itself
    cr = selectors.request_trail(participant).filter(pk=request_id).first()
    if cr is None:
        raise Http404("No such request in this participant.")
    return cr


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
            show_refusal(form, refusal)
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
            show_refusal(form, refusal)
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
            show_refusal(form, refusal)
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
            "passkey_desk": passkey_approval.passkey_desk(request.user),
            **forms,
        },
        status=status,
    )


@da_page
def pending(request, participant):
    if passkey_approval.passkey_desk(request.user):
        from .pending_views import pending_requests  # the checker's own desk (issue 18)

        return pending_requests(request, participant)
    return page(request, "dms/pending.html", {"requests": selectors.pending_requests(participant)})
