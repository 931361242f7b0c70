"""Logon screens of the CCASS/CCMS Terminal, DMS and the back-office (App. C, App. D).

One set of views serves the three portals; the URL namespace ("terminal",
"dms", "backoffice") says which. Views check the step, call a service and
answer; the rules are in `accounts.logon`, `accounts.reset` and `accounts.services`, and
the helpers every portal's views share in `accounts.portal_views`.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from otp import services as otp_services

from . import factors, logon, passkeys, reset, services, step_up
from .forms import (
    ChangePasswordForm,
    LoginForm,
    NewPasswordForm,
    OathSettingsForm,
    OtpForm,
    PasskeyNameForm,
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
LOGIN_QUERIES = ("", *(f"service={service}" for service in sorted(SERVICES)))


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
    context = {"form": form, "service": service}
    if form.is_bound:
        return render_portal(request, "accounts/login.html", context, status=status)
    # The empty form is the same page for every stranger (issue 19: rendered once per worker).
    return render_portal(request, "accounts/login.html", context, public=(service,), queries=LOGIN_QUERIES)


def _step_url(request, step: str) -> str:
    if step in PASSKEY_STEPS:
        return url(request, PASSKEY_STEPS[step])
    if factors.at_step(step) is not None:
        return url(request, "otp")  # one OTP page, whatever the factor
    return url(request, {Step.EXPIRED: "expired", Step.SETUP: "setup", Step.REGISTER: "register"}[step])


PASSKEY_STEPS = {Step.PASSKEY: "passkey", Step.PASSKEY_REGISTER: "passkey-register"}


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


# -- Passkey (issue 18): offered first to a passkey holder; the library's JavaScript drives
# the ceremony against the JSON endpoints below, and reports a cancelled one.


def passkeys_on(view):
    """With PORTAL_PASSKEYS off the passkey URLs answer as if they did not exist."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not passkeys.enabled():
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def ceremony_endpoint(*steps):
    """A JSON endpoint of a logon step's ceremony: POST only, CSRF checked, never cached;
    without an attempt at `steps` a JSON refusal that sends the page back to User Login."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            attempt = Attempt.load(request, portal_of(request))
            if attempt is None or attempt.step not in steps:
                return _ceremony_answer(request, logon.OtpResult(ok=False, locked=True, message=logon.GENERIC_FAILURE))
            return view(request, attempt, *args, **kwargs)

        return passkeys_on(require_POST(csrf_protect(never_cache(wrapped))))

    return decorator


def _answer_body(request):
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None


def _ceremony_answer(request, result: logon.OtpResult):
    """The JSON the library's script reads: `id` and `redirect_url` on success, else `detail`
    (shown beside the button) and, when the attempt ended, where to go."""
    if result.ok:
        target = _step_url(request, result.next_step) if result.next_step else url(request, "success")
        return JsonResponse({"id": "ok", "redirect_url": target})
    body = {"detail": str(result.message)}
    if result.locked:
        messages.error(request, result.message)
        body["redirect_url"] = url(request, "login")
    return JsonResponse(body, status=403 if result.locked else 400)


@logon_page
@passkeys_on
@at_step(Step.PASSKEY)
def passkey(request, attempt: Attempt):
    """The passkey step; USE ANOTHER METHOD goes to the person's other factor."""
    if request.method == "POST" and request.POST.get("action") == "fallback":
        passkeys.forget_ceremony(request)
        attempt.step = logon.passkey_fallback_step(attempt.user())
        attempt.save(request)
        if attempt.step == Step.OTP_EMAIL:
            return _send_logon_otp(request, attempt)
        return redirect(_step_url(request, attempt.step))
    return render_portal(request, "accounts/passkey.html", _passkey_page(request, "passkey"))


def _passkey_page(request, name: str) -> dict:
    return {
        "passkey_config": {
            # No CSRF token here: static/js/passkeys.js takes the form's, so the page reads the
            # same for everyone (the reset code page is compared across typed IDs).
            "nextFieldSelector": "input[name='next']",
            "beginAuthenticationUrl": url(request, f"{name}-begin"),
            "completeAuthenticationUrl": url(request, f"{name}-complete"),
            "beginRegistrationUrl": url(request, f"{name}-begin"),
            "completeRegistrationUrl": url(request, f"{name}-complete"),
            "cancelUrl": url(request, f"{name}-cancel" if name != "passkey-register" else "passkey-cancel"),
            "loginUrl": url(request, "login"),
        },
        "passkey_texts": {str(text): _(text) for text in PASSKEY_SCRIPT_TEXTS},
    }


# The library script's own words, in the page's language (its catalogue has no Chinese).
PASSKEY_SCRIPT_TEXTS = (
    gettext_noop("Verifying..."),
    gettext_noop("Finishing verification..."),
    gettext_noop("Verification successful!"),
    gettext_noop("Verification canceled or not allowed."),
    gettext_noop("Verification aborted."),
    gettext_noop("Registering..."),
    gettext_noop("Finishing registration..."),
    gettext_noop("Registration successful!"),
    gettext_noop("Registration aborted or not allowed."),
    gettext_noop("Registration aborted."),
)


@ceremony_endpoint(Step.PASSKEY)
def passkey_begin(request, attempt: Attempt):
    return JsonResponse(passkeys.begin_authentication(request, user=attempt.user(), purpose=passkeys.Purpose.LOGON))


@sensitive_post_parameters()
@ceremony_endpoint(Step.PASSKEY)
def passkey_complete(request, attempt: Attempt):
    return _ceremony_answer(request, logon.verify_passkey_step(request, attempt, _answer_body(request)))


@ceremony_endpoint(Step.PASSKEY, Step.PASSKEY_REGISTER)
def passkey_cancel(request, attempt: Attempt):
    """The browser's report of a cancelled or timed-out ceremony; it counts like a wrong OTP."""
    if attempt.step == Step.PASSKEY_REGISTER:
        passkeys.forget_ceremony(request)  # enrolling: nothing to count, as leaving the app's QR page
        return JsonResponse({"detail": str(passkeys.PasskeyError(passkeys.PasskeyFailure.CANCELLED).reason)})
    return _ceremony_answer(request, logon.passkey_cancelled(request, attempt))


@logon_page
@passkeys_on
@at_step(Step.PASSKEY_REGISTER)
def passkey_register(request, attempt: Attempt):
    """First-time logon: register a passkey instead of the app (beside REGISTER DEVICE)."""
    return render_portal(request, "accounts/passkey_register.html", _passkey_page(request, "passkey-register"))


@ceremony_endpoint(Step.PASSKEY_REGISTER)
def passkey_register_begin(request, attempt: Attempt):
    return JsonResponse(passkeys.begin_registration(request, user=attempt.user()))


@sensitive_post_parameters()
@ceremony_endpoint(Step.PASSKEY_REGISTER)
def passkey_register_complete(request, attempt: Attempt):
    return _ceremony_answer(request, logon.verify_passkey_registration_step(request, attempt, _answer_body(request)))


# -- First-time setup of the OTP channel ------------------------------------------------


@logon_page
@at_step(Step.SETUP, Step.REGISTER, Step.PASSKEY_REGISTER)
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
        if action == "passkey" and passkeys.enabled():
            attempt.step = Step.PASSKEY_REGISTER
            attempt.save(request)
            return redirect(url(request, "passkey-register"))
    return render_portal(request, "accounts/setup.html", {"passkeys": passkeys.enabled()})


@logon_page
@at_step(Step.REGISTER)
def register(request, attempt: Attempt):
    user = attempt.user()
    device = otp_services.pending_registration(user) or factors.factor("app").start_enrolment(user)
    form = OtpForm(posted(request), digits=device.digits)
    answer, status = _code_step(request, form, attempt, logon.verify_registration_step)
    if answer is not None:
        return answer
    # Imported here: only the first-time logon draws a QR code, and segno is ~1 MiB per worker that a
    # worker at rest need not carry (issue 19; tests/test_web_worker.py).
    import segno

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
@at_step(Step.SETUP, Step.PASSKEY_REGISTER)
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
    if passkeys.enabled():
        context.update(_passkey_page(request, "reset-passkey"))
    return render_portal(request, "accounts/reset_code.html", context, status=status)


# The code page's passkey (issue 18): the same options, answers and redirects whoever the ID
# names (docs/decisions.md, "Self-service reset answers alike").


def reset_ceremony(view):
    @wraps(view)
    def wrapped(request):
        state = _reset_state(request, ResetStep.CODE)
        if state is None:
            body = {"detail": str(passkeys.PasskeyError(passkeys.PasskeyFailure.NO_CEREMONY).reason)}
            return JsonResponse({**body, "redirect_url": url(request, "reset")}, status=403)
        return view(request, state)

    return passkeys_on(require_POST(csrf_protect(never_cache(wrapped))))


def _reset_answer(request, result) -> JsonResponse:
    if result.ok:
        return JsonResponse({"id": "ok", "redirect_url": url(request, "reset-password")})
    return JsonResponse({"detail": str(logon.INVALID_OTP)}, status=400)


@reset_ceremony
def reset_passkey_begin(request, state):
    return JsonResponse(passkeys.begin_reset(request, user_id=state.user_id))


@sensitive_post_parameters()
@reset_ceremony
def reset_passkey_complete(request, state):
    return _reset_answer(request, reset.verify_reset_passkey(request, state, _answer_body(request)))


@reset_ceremony
def reset_passkey_cancel(request, state):
    return _reset_answer(request, reset.reset_passkey_cancelled(request, state))


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
    passkey_forms = _passkey_forms(request, user, action)
    status = 200
    if request.method == "POST":
        status = 400
        answer = _passkey_action(request, user, action, passkey_forms)
        if answer is not None:
            return answer
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
            **passkey_forms,
        },
        status=status,
    )


# -- AUTHENTICATION SETTINGS: passkeys (issue 18) ----------------------------------------------
# Add and Remove prove the person again (accounts.step_up, as the app's Delete); Rename does not.

PASSKEY_ACTIONS = {"add-passkey": "add_form", "remove-passkey": "remove_form"}


def _passkey_forms(request, user, action) -> dict:
    if not passkeys.enabled():
        return {"passkeys_on": False}
    forms = {
        name: ReauthenticateForm(
            request.POST if action == posted_action else None, prefix=posted_action, request=request, user=user
        )
        for posted_action, name in PASSKEY_ACTIONS.items()
    }
    rename_form = PasskeyNameForm(request.POST if action == "rename-passkey" else None, prefix="rename-passkey")
    return {
        "passkeys_on": True,
        "passkeys": passkeys.otp_passkeys.passkeys_of(user),
        "rename_form": rename_form,
        **forms,
    }


def _passkey_action(request, user, action, forms):
    """The answer to a passkey action of the page, or None (the page is shown again, 400)."""
    if not forms["passkeys_on"] or action not in (*PASSKEY_ACTIONS, "rename-passkey"):
        return None
    form = forms["rename_form"] if action == "rename-passkey" else forms[PASSKEY_ACTIONS[action]]
    if not form.is_valid():
        return _locked_out(request) if getattr(form, "locked", False) or user.is_locked else None
    try:
        if action == "add-passkey":
            passkeys.grant_enrolment(request)
            return redirect(url(request, "auth-settings-passkey"))
        passkey_id = request.POST.get("passkey", "")
        if not passkey_id.isdigit():
            raise passkeys.PasskeyError(passkeys.PasskeyFailure.UNKNOWN_CREDENTIAL)
        if action == "remove-passkey":
            services.remove_passkey(request, user, passkey_id=int(passkey_id))
            messages.success(request, _("The passkey was removed."))
        else:
            passkeys.rename(request, user=user, passkey_id=int(passkey_id), name=form.cleaned_data["name"])
            messages.success(request, _("The passkey was renamed."))
    except passkeys.PasskeyError as error:
        form.add_error("name" if action == "rename-passkey" else None, error.reason)
        return None
    return redirect(url(request, "auth-settings"))


@logon_page
@passkeys_on
@strong_session_required
def settings_passkey(request):
    """Add a passkey (after the step-up on AUTHENTICATION SETTINGS)."""
    if not passkeys.enrolment_granted(request):
        return redirect(url(request, "auth-settings"))
    return render_portal(
        request,
        "accounts/passkey_register.html",
        {**_passkey_page(request, "auth-settings-passkey"), "back_url": url(request, "auth-settings")},
    )


def settings_ceremony(view):
    """A JSON endpoint of the Add a passkey page: a strong session and the step-up's grant."""

    @wraps(view)
    def wrapped(request):
        if not logon.is_strongly_authenticated(request) or not passkeys.enrolment_granted(request):
            body = {"detail": str(passkeys.PasskeyError(passkeys.PasskeyFailure.NO_CEREMONY).reason)}
            return JsonResponse({**body, "redirect_url": url(request, "auth-settings")}, status=403)
        return view(request)

    return passkeys_on(require_POST(csrf_protect(never_cache(wrapped))))


@settings_ceremony
def settings_passkey_begin(request):
    return JsonResponse(passkeys.begin_registration(request, user=request.user))


@sensitive_post_parameters()
@settings_ceremony
def settings_passkey_complete(request):
    try:
        passkeys.add(request, user=request.user, response=_answer_body(request))
    except passkeys.PasskeyError as error:
        return JsonResponse({"detail": error.reason}, status=400)
    messages.success(request, _("The passkey was added."))
    return JsonResponse({"id": "ok", "redirect_url": url(request, "auth-settings")})


@settings_ceremony
def settings_passkey_cancel(request):
    passkeys.forget_ceremony(request)
    return JsonResponse({"detail": str(passkeys.PasskeyError(passkeys.PasskeyFailure.CANCELLED).reason)})
