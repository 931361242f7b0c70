"""Logon screens of the CCASS/CCMS Terminal, DMS and the back-office (App. C, App. D).

One set of views serves the three portals; the URL namespace ("terminal",
"dms", "backoffice") says which. Views check the step, call a service and
answer; the rules are in `accounts.logon`, `accounts.reset` and `accounts.services`, and
the helpers every portal's views share in `accounts.portal_views`.
"""

from __future__ import annotations

from functools import wraps

import segno
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from otp import services as otp_services

from . import factors, logon, reset, services, step_up
from .forms import (
    ChangePasswordForm,
    LoginForm,
    NewPasswordForm,
    OathSettingsForm,
    OtpForm,
    ReauthenticateForm,
    ResetCodeForm,
    SmartcardForm,
    UserIdForm,
)
from .logon import Attempt, Step
from .policies import smartcard_available
from .portal_views import logon_page, portal_of, posted, render_portal, strong_session_required, url
from .reset import ResetState, ResetStep

SERVICES = {"online", "reports"}


def at_step(*steps):
    """The view needs a logon attempt at one of `steps`; otherwise back to User Login."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            attempt = Attempt.load(request, portal_of(request))
            if attempt is None or attempt.step not in steps:
                return redirect(url(request, "login"))
            return view(request, attempt, *args, **kwargs)

        return wrapped

    return decorator


# -- User Login ------------------------------------------------------------------------


@logon_page
def login(request):
    service = request.GET.get("service", "online")
    if service not in SERVICES:
        service = "online"
    form = LoginForm(posted(request))
    status = 200
    if request.method == "POST" and not form.is_valid():
        status = 400
    elif request.method == "POST":
        result = logon.password_step(
            request,
            form.cleaned_data["user_id"],
            form.cleaned_data["password"],
            portal=portal_of(request),
            service=service if portal_of(request) == "terminal" else portal_of(request),
        )
        if result.ok:
            factor = factors.at_step(result.attempt.step)
            if factor is not None and factor.sends_code:
                return _send_logon_otp(request, result.attempt)
            return redirect(_step_url(request, result.attempt.step))
        # One message and status for every refusal, whoever asked (SECURITY.md 7).
        form.add_error(None, result.message)
    return render_portal(request, "accounts/login.html", {"form": form, "service": service}, status=status)


def _step_url(request, step: str) -> str:
    if factors.at_step(step) is not None:
        return url(request, "otp")  # one OTP page, whatever the factor
    return url(request, {Step.EXPIRED: "expired", Step.SETUP: "setup", Step.REGISTER: "register"}[step])


def _send_logon_otp(request, attempt: Attempt):
    user = attempt.user()
    try:
        result = logon.send_logon_otp(request, user, attempt)
    except otp_services.DeliveryUnavailable:
        messages.error(request, _("The OTP could not be sent just now. Please press REQUEST OTP to try again."))
    else:
        if result is not None and not result.sent:
            messages.info(
                request,
                _("An OTP was sent recently. You can request a new OTP in %(wait)s.") % {"wait": result.wait_text()},
            )
    return redirect(url(request, "otp"))


# -- OTP ------------------------------------------------------------------------------


def _code_step(request, form, attempt: Attempt, verify):
    """POST of a code: (redirect, None) when it decides the step, else (None, status)."""
    if request.method != "POST":
        return None, 200
    if form.is_valid():
        result = verify(request, attempt, form.cleaned_data["otp"])
        if result.ok:
            return redirect(_step_url(request, result.next_step) if result.next_step else url(request, "success")), None
        if result.locked:
            messages.error(request, result.message)
            return redirect(url(request, "login")), None
        form.add_error("otp", result.message)
    return None, 400


@logon_page
@at_step(*[entry.otp_step for entry in factors.second_factors()])
def otp(request, attempt: Attempt):
    factor = factors.at_step(attempt.step)
    if request.method == "POST" and request.POST.get("action") == "request":
        if not factor.sends_code:
            raise Http404
        return _send_logon_otp(request, attempt)
    form = OtpForm(posted(request), digits=factor.code_digits)
    answer, status = _code_step(request, form, attempt, logon.verify_otp_step)
    if answer is not None:
        return answer
    return render_portal(
        request,
        factor.otp_template,
        {
            "form": form,
            "email_status": otp_services.email_otp_status(attempt.user(), purpose=otp_services.Purpose.SIGN_IN)
            if factor.sends_code
            else None,
        },
        status=status,
    )


# -- First-time setup of the OTP channel ------------------------------------------------


@logon_page
@at_step(Step.SETUP, Step.REGISTER)
def setup(request, attempt: Attempt):
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "register":
            attempt.step = Step.REGISTER
            attempt.save(request)
            factors.factor("app").start_enrolment(attempt.user())
            return redirect(url(request, "register"))
        if action == "skip":
            return redirect(url(request, "skip"))
    return render_portal(request, "accounts/setup.html")


@logon_page
@at_step(Step.REGISTER)
def register(request, attempt: Attempt):
    user = attempt.user()
    device = otp_services.pending_registration(user) or factors.factor("app").start_enrolment(user)
    form = OtpForm(posted(request), digits=device.digits)
    answer, status = _code_step(request, form, attempt, logon.verify_registration_step)
    if answer is not None:
        return answer
    qr = segno.make(device.config_url, error="m")
    key = device.base32_key
    # never_cache (logon_page) marks this page no-store: the secret is on it (SECURITY.md 12).
    return render_portal(
        request,
        "accounts/register.html",
        {
            "form": form,
            "qr_png": qr.png_data_uri(scale=8, border=4),
            "manual_key": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
            "user_id": user.user_id,
        },
        status=status,
    )


@logon_page
@at_step(Step.SETUP)
def skip(request, attempt: Attempt):
    """SKIP THIS STEP: a warning to ACCEPT, then an e-mail OTP (App. C steps o-r)."""
    if request.method == "POST":
        attempt.step = factors.first_time_factor().otp_step
        request.session.cycle_key()
        attempt.save(request)
        return _send_logon_otp(request, attempt)
    return render_portal(request, "accounts/skip_warning.html")


# -- Expired password ----------------------------------------------------------------


@logon_page
@at_step(Step.EXPIRED)
def expired(request, attempt: Attempt):
    user = attempt.user()
    form = ChangePasswordForm(
        posted(request), request=request, user=user, with_code=False, reason="expired_password_change"
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if services.change_expired_password(request, attempt, new=form.cleaned_data["new_password1"]):
                messages.success(request, _("Your password has been changed."))
                return redirect(url(request, "success"))
            messages.error(request, logon.GENERIC_FAILURE)
            return redirect(url(request, "login"))
        if form.locked or not Attempt.load(request, portal_of(request)):
            logon.abandon_attempt(request)
            messages.error(request, logon.GENERIC_FAILURE)
            return redirect(url(request, "login"))
        status = 400
    return render_portal(request, "accounts/expired.html", {"form": form}, status=status)


# -- Logon success ------------------------------------------------------------------


@strong_session_required
def success(request):
    previous = request.session.get(logon.PREVIOUS_ACCESS_KEY)
    previous_at = timezone.localtime(timezone.datetime.fromisoformat(previous)) if previous else None
    service = request.session.get("service", "online")
    home = url(request, "reports") if service == "reports" else url(request, "home")
    return render_portal(
        request,
        "accounts/success.html",
        {
            "previous_at": previous_at,
            "home_url": home,
            "expires_in_days": logon.password_expiry_warning(request.user),
        },
    )


@require_POST
@csrf_protect
def logout(request):
    logon.logout(request)
    return redirect(reverse(f"{portal_of(request)}:landing"))


# -- Forgot/Reset your password? ---------------------------------------------------------


RESET_SERVICE_KEY = "reset_service"


def _login_of_chosen_service(request) -> str:
    """The login of the service chosen on the landing page, for "Close" after a reset."""
    service = request.session.get(RESET_SERVICE_KEY)
    return url(request, "login") + (f"?service={service}" if service in SERVICES else "")


@logon_page
def reset_start(request):
    if request.GET.get("service") in SERVICES and portal_of(request) == "terminal":
        request.session[RESET_SERVICE_KEY] = request.GET["service"]
    form = UserIdForm(posted(request))
    if request.method == "POST":
        if form.is_valid():
            if (
                reset.start_reset(request, form.cleaned_data["user_id"], portal=portal_of(request))
                == ResetStep.THROTTLED
            ):
                form.add_error(None, reset.TOO_MANY_REQUESTS)
                return render_portal(request, "accounts/reset_start.html", {"form": form}, status=429)
            # The same redirect whoever the ID names (docs/decisions.md, "Self-service reset answers alike").
            return redirect(url(request, "reset-otp"))
        return render_portal(request, "accounts/reset_start.html", {"form": form}, status=400)
    return render_portal(request, "accounts/reset_start.html", {"form": form})


def _reset_state(request, *steps):
    state = ResetState.load(request, portal_of(request))
    return state if state is not None and state.step in steps else None


@logon_page
def reset_otp(request):
    """One code page for everyone: the app's 6 digits or the e-mailed 8 (reset.provable_factor)."""
    state = _reset_state(request, ResetStep.CODE)
    if state is None:
        return redirect(url(request, "reset"))
    if request.method == "POST" and request.POST.get("action") == "request":
        reset.send_reset_otp(request, state.user(), state)
        messages.info(request, reset.EMAIL_OTP_ANSWER)
        return redirect(url(request, "reset-otp"))
    form = ResetCodeForm(posted(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = reset.verify_reset_code(request, state, form.cleaned_data["otp"])
            if result.ok:
                return redirect(url(request, "reset-password"))
            form.add_error("otp", logon.INVALID_OTP)
        status = 400
    context = {"form": form, "who_can_reset": reset.WHO_CAN_RESET}
    return render_portal(request, "accounts/reset_code.html", context, status=status)


@logon_page
def reset_password(request):
    state = _reset_state(request, ResetStep.NEW_PASSWORD)
    if state is None:
        return redirect(url(request, "reset"))
    form = NewPasswordForm(posted(request), user=state.user())
    if request.method == "POST":
        if form.is_valid():
            reset.set_new_password(request, state, form.cleaned_data["new_password1"])
            return redirect(url(request, "reset-done"))
        return render_portal(request, "accounts/reset_password.html", {"form": form}, status=400)
    return render_portal(request, "accounts/reset_password.html", {"form": form})


@never_cache
def reset_done(request):
    if _reset_state(request, ResetStep.DONE) is None:
        return redirect(url(request, "reset"))
    request.session.pop(reset.RESET_KEY, None)
    return render_portal(request, "accounts/reset_done.html", {"close_url": _login_of_chosen_service(request)})


# -- Smartcard ------------------------------------------------------------------------


@logon_page
def smartcard(request):
    if not smartcard_available():
        raise Http404(_("Smartcard logon was decommissioned."))
    form = SmartcardForm(posted(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            ok, message = services.smartcard_logon(
                request,
                srn=form.cleaned_data["srn"],
                pin=form.cleaned_data["smartcard_password"],
                portal=portal_of(request),
            )
            if ok:
                return redirect(url(request, "success"))
            form.add_error(None, message)
        else:
            status = 400
    return render_portal(request, "accounts/smartcard.html", {"form": form}, status=status)


# -- Change Password and AUTHENTICATION SETTINGS (App. D.a, D.d) ------------------------
# Each change proves the current password first, then a code of the current second
# factor (accounts.step_up); e-mail OTP users press REQUEST OTP on the page for theirs.


def _request_step_up_code(request, user, name: str):
    try:
        result = step_up.request_code(request, user)
    except otp_services.DeliveryUnavailable:
        messages.error(request, _("The OTP could not be sent just now. Please press REQUEST OTP to try again."))
    else:
        if result is None:
            pass  # the app is this person's factor: nothing to send
        elif result.sent:
            messages.info(
                request, _("An OTP has been sent to your registered e-mail address. It is valid for 5 minutes.")
            )
        else:
            messages.info(request, _("You can request a new OTP in %(wait)s.") % {"wait": result.wait_text()})
    return redirect(url(request, name))


def _locked_out(request):
    """The lock landed on this request: the session ends (SECURITY.md 18)."""
    logon.logout(request)
    messages.error(request, logon.GENERIC_FAILURE)
    return redirect(url(request, "login"))


@logon_page
@strong_session_required
def change_password(request):
    user = request.user
    if request.method == "POST" and request.POST.get("action") == "request":
        return _request_step_up_code(request, user, "change-password")
    form = ChangePasswordForm(posted(request), request=request, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.change_password(request, user, new=form.cleaned_data["new_password1"])
            messages.success(request, _("Your password has been changed. Use the new password at your next login."))
            return redirect(url(request, "change-password"))
        if form.locked:
            return _locked_out(request)
        status = 400
    return render_portal(
        request,
        "accounts/change_password.html",
        {"form": form, "by_email": step_up.sends_code(user)},
        status=status,
    )


@logon_page
@strong_session_required
def authentication_settings(request):
    user = request.user
    device = otp_services.confirmed_app_device(user)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "request":
        return _request_step_up_code(request, user, "auth-settings")
    delete_form = ReauthenticateForm(prefix="delete", request=request, user=user)
    settings_form = OathSettingsForm(
        prefix="settings", request=request, user=user, initial={"oath_enabled": factors.factor("app").chosen_by(user)}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if action == "delete" and device is not None:
            delete_form = ReauthenticateForm(request.POST, prefix="delete", request=request, user=user)
            if delete_form.is_valid():
                services.delete_app_device(request, user)
                messages.success(
                    request, _("The registered device was deleted. Your next login will register a new device.")
                )
                return redirect(url(request, "auth-settings"))
        elif action == "settings":
            settings_form = OathSettingsForm(request.POST, prefix="settings", request=request, user=user)
            if settings_form.is_valid():
                if settings_form.cleaned_data["oath_enabled"]:
                    settings_form.add_error(
                        "oath_enabled",
                        _(
                            "To use the mobile application again, delete the registration; "
                            "your next login registers a device."
                        ),
                    )
                else:
                    services.use_email_otp(request, user)
                    messages.success(request, _("Saved. Your next login will use an OTP sent by e-mail."))
                    return redirect(url(request, "auth-settings"))
        if delete_form.locked or settings_form.locked or user.is_locked:
            return _locked_out(request)
    return render_portal(
        request,
        "accounts/authentication_settings.html",
        {
            "device": device,
            "delete_form": delete_form,
            "settings_form": settings_form,
            "by_email": step_up.sends_code(user),
        },
        status=status,
    )
