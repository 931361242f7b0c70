"""Forms of the logon screens. Labels are the seeds' labels, verbatim.

Forms check shape and the password rule; the decisions (who may log on,
what counts towards the lockout) are in `accounts.logon` and `accounts.reset`.
"""

import re
import unicodedata

from django import forms
from django.contrib.auth import password_validation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from . import factors, step_up
from .password_validation import MAX_PASSWORD_LENGTH

MAX_USER_ID_INPUT = 32
OTP_MAX_INPUT = 16


class UserIdField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("User ID"))
        kwargs.setdefault("max_length", MAX_USER_ID_INPUT)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "characters", "spellcheck": "false"}),
        )
        super().__init__(**kwargs)


class PasswordInputField(forms.CharField):
    def __init__(self, label=_("Password"), autocomplete="current-password", **kwargs):
        kwargs.setdefault("max_length", MAX_PASSWORD_LENGTH)
        kwargs.setdefault("strip", False)  # never alter a password
        super().__init__(
            label=label if label is not None else _("Password"),
            widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
            **kwargs,
        )


class LoginForm(forms.Form):
    user_id = UserIdField()
    password = PasswordInputField()


class UserIdForm(forms.Form):
    """ "Input User ID" of "Forgot/Reset your password?"."""

    user_id = UserIdField()


def email_otp_digits() -> int:
    """The e-mailed OTP's length (accounts.factors: the setting the codes are made with)."""
    return factors.factor("email").code_digits


def app_otp_digits() -> int:
    """The app's code length (accounts.factors: django-otp's TOTP default, 6, RFC 6238)."""
    return factors.factor("app").code_digits


class OtpCodeField(forms.CharField):
    """ "Enter OTP": `digits` digits (or any of a tuple of lengths; by default the e-mailed
    OTP's); full-width digits and spaces are accepted."""

    def __init__(self, *, digits: int | tuple[int, ...] | None = None, **kwargs):
        self.digits = digits if digits is not None else email_otp_digits()
        kwargs.setdefault("label", _("Enter OTP"))
        kwargs.setdefault("max_length", OTP_MAX_INPUT)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        # NFKC turns full-width digits (typed with a Chinese input method) into ASCII ones.
        value = unicodedata.normalize("NFKC", value).replace(" ", "")
        lengths = self.digits if isinstance(self.digits, tuple) else (self.digits,)
        if not any(re.fullmatch(rf"[0-9]{{{n}}}", value) for n in lengths):
            if len(lengths) > 1:
                raise forms.ValidationError(
                    _("The OTP is %(app)d digits (mobile application) or %(email)d digits (e-mail)."),
                    code="otp_format",
                    params={"app": app_otp_digits(), "email": email_otp_digits()},
                )
            raise forms.ValidationError(
                _("The OTP is %(digits)d digits."), code="otp_format", params={"digits": self.digits}
            )
        return value


class OtpForm(forms.Form):
    def __init__(self, *args, digits: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp"] = OtpCodeField(digits=digits)
        self.digits = self.fields["otp"].digits


class ResetCodeForm(forms.Form):
    """ "Enter OTP" of the reset: the app's 6 digits or the e-mailed 8, on one page for everyone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp"] = OtpCodeField(digits=(app_otp_digits(), email_otp_digits()))


class NewPasswordForm(forms.Form):
    """ "Reset Password": "Password", "Confirm password" (App. C step f)."""

    new_password1 = PasswordInputField(label=_("Password"), autocomplete="new-password")
    new_password2 = PasswordInputField(label=_("Confirm password"), autocomplete="new-password")

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        # Django's own rule says "can’t", ours "firm's": one kind of apostrophe in the list.
        self.fields["new_password1"].help_text = mark_safe(  # nosec B308 B703: Django's own escaped HTML list, one character swapped
            password_validation.password_validators_help_text_html().replace("\u2019", "'")
        )

    def clean(self):
        cleaned = super().clean()
        self.check_new_password()
        return cleaned

    def check_new_password(self) -> bool:
        """The confirmation, then the password rule and history. True if the new password is accepted."""
        p1 = self.cleaned_data.get("new_password1")
        p2 = self.cleaned_data.get("new_password2")
        if not (p1 and p2):
            return False
        if p1 != p2:
            self.add_error(
                "new_password2", forms.ValidationError(_("The two passwords do not match."), code="password_mismatch")
            )
            return False
        try:
            password_validation.validate_password(p2, self.user)
        except forms.ValidationError as error:
            self.add_error("new_password1", error)
            return False
        return True


class StepUpForm(forms.Form):
    """A change that proves the person again (accounts.step_up): the current password and,
    when `with_code`, a code of the person's current second factor. Nothing else is checked
    or said before the password is proved; a wrong password or code counts towards the lockout."""

    password_field = "old_password"
    step_up_reason = ""

    def __init__(self, *args, request, user, with_code: bool = True, **kwargs):
        self.request = request
        self.locked = False
        super().__init__(*args, **kwargs)
        self.user = user
        self.code_digits = step_up.code_digits(user) if with_code else None
        if self.code_digits:
            self.fields["otp"] = OtpCodeField(digits=self.code_digits)

    def new_password_ok(self) -> bool:
        return True

    def clean(self):
        if self.errors:
            # A field missing or malformed: nothing is tried, nothing counted, nothing said.
            return self.cleaned_data
        proof = step_up.prove(
            self.request,
            self.user,
            password=self.cleaned_data[self.password_field],
            code=self.cleaned_data.get("otp") if self.code_digits else None,
            reason=self.step_up_reason,
            new_password_ok=self.new_password_ok,
        )
        self.locked = proof.locked
        if not proof.ok and proof.field:
            self.add_error(self.password_field if proof.field == "password" else "otp", proof.message)
        return self.cleaned_data


class ChangePasswordForm(StepUpForm, NewPasswordForm):
    """ "Change Password": new password twice, then the current password, "Update" (App. D.a);
    also the forced change of an expired password (`with_code=False`)."""

    old_password = PasswordInputField(label=_("Current password"))

    field_order = ["new_password1", "new_password2", "old_password", "otp"]
    step_up_reason = "change_password"

    def __init__(self, *args, reason: str = "change_password", **kwargs):
        super().__init__(*args, **kwargs)
        self.step_up_reason = reason
        # Beside "Current password", the new ones say they are new (issue 17, Finish).
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password2"].label = _("Confirm new password")
        self.order_fields(self.field_order)

    def new_password_ok(self) -> bool:
        return self.check_new_password()

    def clean(self):
        return StepUpForm.clean(self)


class ReauthenticateForm(StepUpForm):
    """AUTHENTICATION SETTINGS, Delete: the current password and a code again."""

    password = PasswordInputField(label=_("Current password"))

    password_field = "password"
    step_up_reason = "authentication_settings"


class OathSettingsForm(ReauthenticateForm):
    oath_enabled = forms.BooleanField(label=_("Multi-factor authentication using OATH enable"), required=False)

    def clean(self):
        if self.cleaned_data.get("oath_enabled"):
            # Nothing to change (the view says how to use the app again): no proof asked.
            return self.cleaned_data
        return super().clean()


class SmartcardForm(forms.Form):
    srn = forms.CharField(label=_("SRN"), max_length=16, widget=forms.TextInput(attrs={"spellcheck": "false"}))
    smartcard_password = forms.CharField(
        label=_("Smartcard Password"),
        max_length=8,
        min_length=6,
        strip=False,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_smartcard_password(self):
        value = self.cleaned_data["smartcard_password"]
        if not value.isdigit():
            raise forms.ValidationError(_("The smartcard password is 6-8 digits."), code="smartcard_format")
        return value

    def clean_srn(self):
        return self.cleaned_data["srn"].strip().upper()
