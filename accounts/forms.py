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


class OtpForm(forms.Form):
    otp = forms.CharField(
        label=_("Enter OTP"),
        max_length=OTP_MAX_INPUT,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, digits: int = 8, **kwargs):
        self.digits = digits
        super().__init__(*args, **kwargs)

    def clean_otp(self):
        # NFKC turns full-width digits (typed with a Chinese input method) into ASCII ones.
        value = unicodedata.normalize("NFKC", self.cleaned_data["otp"]).replace(" ", "")
        if not re.fullmatch(rf"[0-9]{{{self.digits}}}", value):
            raise forms.ValidationError(_("The OTP is %(digits)d digits."), code="otp_format", params={"digits": self.digits})
        return value


class NewPasswordForm(forms.Form):
    """ "Reset Password": "Password", "Confirm password" (App. C step f)."""

    new_password1 = PasswordInputField(label=_("Password"), autocomplete="new-password")
    new_password2 = PasswordInputField(label=_("Confirm password"), autocomplete="new-password")

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        # Django's own rule says "can’t", ours "firm's": one kind of apostrophe in the list.
        self.fields["new_password1"].help_text = mark_safe(  # nosec B308: Django's own escaped HTML list
            password_validation.password_validators_help_text_html().replace("\u2019", "'")
        )

    def clean_new_password2(self):
        p1 = self.cleaned_data.get("new_password1")
        p2 = self.cleaned_data.get("new_password2")
        if p1 and p2 and p1 != p2:
            raise forms.ValidationError(_("The two passwords do not match."), code="password_mismatch")
        return p2

    def _post_clean(self):
        super()._post_clean()
        password = self.cleaned_data.get("new_password2")
        if password:
            try:
                password_validation.validate_password(password, self.user)
            except forms.ValidationError as error:
                self.add_error("new_password1", error)


class ChangePasswordForm(NewPasswordForm):
    """ "Change Password": new password twice, then the current password, "Update" (App. D.a)."""

    old_password = PasswordInputField(label=_("Current password"))

    field_order = ["new_password1", "new_password2", "old_password"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Beside "Current password", the new ones say they are new (issue 17, Finish).
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password2"].label = _("Confirm new password")

    def clean_old_password(self):
        # Checked by the service so that a wrong one counts towards the lockout.
        return self.cleaned_data["old_password"]


class ReauthenticateForm(forms.Form):
    """Authentication settings changes need the current password again."""

    password = PasswordInputField(label=_("Current password"))


class OathSettingsForm(ReauthenticateForm):
    oath_enabled = forms.BooleanField(label=_("Multi-factor authentication using OATH enable"), required=False)


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
