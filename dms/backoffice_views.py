"""The HKEX operators' back-office pages (eServices DA3 and DA4).

Every page needs an operator's full 2FA session (`strong_session_required`
with the "backoffice" portal: is_staff and no participant). Views validate the
form, call `dms.backoffice` and answer; a refused rule is shown next to its field.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.portal_views import page_methods, posted, render_portal, strong_session_required

from . import backoffice
from .forms import AddDaForm, AssignRoleForm, DaActionForm, GrantAccountsForm, SmartcardResetForm
from .models import EServiceRecord
from .rules import DmsRefusal
from .views import show_refusal


def landing(request):
    return redirect("backoffice:login")


def operator_page(view):
    return strong_session_required(page_methods(view))


@operator_page
def home(request):
    return render_portal(request, "backoffice/home.html")


def _about(record: EServiceRecord) -> dict:
    """What a done message names: the record's reference, its action, the User ID and the firm."""
    return {
        "reference": record.reference,
        "action": record.get_action_display(),
        "user_id": record.subject_user_id,
        "participant": record.participant.participant_id,
    }


def _eservice_form(request, form_class, title: str, process):
    """One eService form: on a valid POST `process(form)` returns (message) or raises DmsRefusal."""
    form = form_class(posted(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                message = process(form.cleaned_data)
            except DmsRefusal as refusal:
                show_refusal(form, refusal)
            else:
                messages.success(request, message)
                return redirect("backoffice:processed")
        status = 400
    return render_portal(request, "backoffice/eservice.html", {"form": form, "title": title}, status=status)


@operator_page
def add_da(request):
    def process(data):
        _da, record = backoffice.add_da(operator=request.user, request=request, **data)
        return _("%(reference)s: DA %(user_id)s added to %(participant)s.") % _about(record)

    return _eservice_form(request, AddDaForm, _("DA3 - Add Delegated Administrator"), process)


@operator_page
def da_action(request):
    def process(data):
        record = backoffice.act_on_da(operator=request.user, request=request, **data)
        return _(
            "%(reference)s: %(action)s %(user_id)s of %(participant)s completed; the Client Connect "
            "submitter is notified."
        ) % _about(record)

    return _eservice_form(request, DaActionForm, _("DA3 - Maintain Delegated Administrator"), process)


@operator_page
def smartcard_reset(request):
    def process(data):
        record = backoffice.reset_da_smartcard_password(operator=request.user, request=request, **data)
        return _("%(reference)s: the smartcard password of DA %(user_id)s of %(participant)s is reset.") % _about(
            record
        )

    return _eservice_form(request, SmartcardResetForm, _("SCard 1 - Smartcard Maintenance for DA"), process)


@operator_page
def assign_role(request):
    def process(data):
        record = backoffice.assign_da_role(operator=request.user, request=request, **data)
        return _("%(reference)s: %(user_id)s is now a %(role)s.") % {
            **_about(record),
            "role": Role(data["role"]).label,
        }

    return _eservice_form(request, AssignRoleForm, _("DA3 - Assign DA role to an existing user"), process)


@operator_page
def grant_accounts(request):
    def process(data):
        record = backoffice.grant_accounts(operator=request.user, request=request, **data)
        return _("%(reference)s: %(count)d additional user account(s) for %(participant)s; fee HKD %(fee)s.") % {
            **_about(record),
            "count": record.accounts_granted,
            "fee": f"{record.fee_hkd:,.2f}",
        }

    return _eservice_form(request, GrantAccountsForm, _("DA4 - Grant additional user accounts"), process)


@operator_page
def processed(request):
    records = EServiceRecord.objects.select_related("participant", "operator")[:500]
    return render_portal(request, "backoffice/processed.html", {"records": records})
