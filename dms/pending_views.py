"""A passkey checker's own desk (issue 18): "Pending Requests" lists the requests they may
decide, and each is approved or rejected with a passkey ceremony bound to it
(`dms.passkey_approval`). Thin views: the rules and the audit rows are in the service."""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from . import passkey_approval, profiles
from .forms import RejectForm
from .request_views import _request_or_404
from .rules import DmsRefusal
from .views import da_page, page

MAX_CREDENTIAL_JSON = 16_384  # a real assertion is well under 2 kB


def pending_requests(request, participant):
    """ "Pending Requests" of a checker who approves by passkey (dms.request_views.pending sends them here)."""
    return page(
        request,
        "dms/pending.html",
        {"requests": passkey_approval.decidable_by(request.user), "passkey_desk": True},
    )


def _decision_page(request, cr, *, reject_form=None, ceremony=None, error="", status=200):
    return page(
        request,
        "dms/passkey_decision.html",
        {
            "cr": cr,
            "comparison": profiles.compare(cr.before, cr.payload),
            "unlock_label": profiles.LABELS["unlock_reset"],
            "reject_form": reject_form or RejectForm(),
            "ceremony": ceremony,
            "options": ceremony.options if ceremony else None,
            "error": error,
        },
        status=status,
    )


def _credential(request):
    text = request.POST.get("credential", "")
    if not text or len(text) > MAX_CREDENTIAL_JSON:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


@sensitive_post_parameters("credential")
@da_page
def decide(request, participant, request_id):
    """GET: the request and the two decisions. POST approve / reject: the ceremony's options.
    POST finish (the browser's assertion) or cancelled: the decision, or the refusal (400)."""
    cr = _request_or_404(participant, request_id)
    if not passkey_approval.passkey_desk(request.user):
        return redirect("dms:request", cr.pk)
    if request.method != "POST":
        return _decision_page(request, cr) if cr.is_pending else redirect("dms:request", cr.pk)
    action = request.POST.get("action", "")
    reject_form = RejectForm(request.POST if action == passkey_approval.REJECT else None)
    if action == passkey_approval.REJECT and not reject_form.is_valid():
        return _decision_page(request, cr, reject_form=reject_form, status=400)  # no ceremony for a bad reason
    try:
        if action in passkey_approval.DECISIONS:
            reason = reject_form.cleaned_data["reason"] if action == passkey_approval.REJECT else ""
            ceremony = passkey_approval.begin(
                cr.pk, checker=request.user, decision=action, reason=reason, request=request
            )
            return _decision_page(request, cr, reject_form=reject_form, ceremony=ceremony)
        if action == "finish":
            decided = passkey_approval.finish(
                cr.pk, checker=request.user, response=_credential(request), request=request
            )
            if decided.status == decided.Status.REJECTED:
                messages.success(request, _("The request was rejected."))
                return redirect("dms:requests")
            return redirect("dms:request", cr.pk)
        if action == "cancelled":
            passkey_approval.cancelled(cr.pk, checker=request.user, request=request)
        raise DmsRefusal(_("Unknown decision."))
    except DmsRefusal as refusal:
        if refusal.field == "reason":
            reject_form.errors.clear()
            reject_form.add_error("reason", refusal.message)
            error = ""
        else:
            error = refusal.message
        cr.refresh_from_db()
        return _decision_page(request, cr, reject_form=reject_form, error=error, status=400)
