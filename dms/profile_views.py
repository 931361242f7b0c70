"""DMS profile pages: Create User Profile, and Change, Enquire and Delete User Profile with
their prompts (App. A). Each prepares a request for a checker (`dms.services`)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from accounts import user_ids

from . import profiles, rules, selectors, services
from .forms import ChangeProfileForm, CreateProfileForm, PromptForm
from .models import ChangeRequest
from .rules import DmsRefusal
from .views import da_page, page, show_refusal


def _profile_or_404(participant, user_id: str):
    if not user_ids.ANY_USER_ID.fullmatch(user_ids.normalise_user_id(user_id)):
        raise Http404("Not a User ID.")  # also keeps NUL and other oddities away from the database
    user = selectors.profile_of(participant, user_id)
    if user is None:
        raise Http404("No such user profile in this participant.")
    return user


def _prepare(request, form, **request_fields):
    """The maker's request from a valid profile form: the request page, or None with the
    refusal shown next to its field."""
    try:
        cr = services.prepare_request(maker=request.user, payload=form.payload(), request=request, **request_fields)
    except DmsRefusal as refusal:
        show_refusal(form, refusal)
        return None
    return redirect("dms:request", cr.pk)


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
            initial["user_id"] = rules.propose_user_id(participant)
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
            form.add_error("user_id", rules.NOT_FOUND % {"user_id": user_id or "(blank)"})
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


@sensitive_post_parameters("smartcard_password")  # kept out of error reports (docs/security.md, check 15)
@da_page
def change(request, participant, user_id):
    subject = _profile_or_404(participant, user_id)
    offered = rules.smartcard_reset_offered(subject)
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
    pending = selectors.pending_request_for(participant, subject.user_id)
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
