"""DMS and back-office forms. Labels are the seeds' labels, verbatim (App. A, App. D.c).

Forms check the shape of what was typed; the rules (quota, roster, maker-checker,
user groups of DAs) are in `dms.rules`, `dms.roster` and `dms.backoffice`.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import factors, policies
from accounts.forms import OTP_MAX_INPUT, UserIdField
from accounts.models import DATES_OUT_OF_ORDER, Participant, Role, User, dates_in_order

from . import profiles
from .models import EServiceRecord
from .rules import REASON_REQUIRED

DATE_FORMAT = "%d/%m/%y"
DATE_HELP = "DD/MM/YY"


class DmsDateField(forms.DateField):
    def __init__(self, **kwargs):
        super().__init__(
            input_formats=[DATE_FORMAT],
            required=False,
            help_text=DATE_HELP,
            error_messages={"invalid": _("Enter the date as DD/MM/YY, e.g. 31/12/24.")},
            widget=forms.DateInput(format=DATE_FORMAT),  # one hint: the help text (no placeholder)
            **kwargs,
        )


# The seeds' values, shown in the page's language (the stored values stay the seeds').
INTERNAL_EXTERNAL_CHOICES = [
    (User.InternalExternal.INTERNAL, _("INTERNAL")),
    (User.InternalExternal.EXTERNAL, _("EXTERNAL")),
]
STATUS_CHOICES = [(User.Status.ENABLED, _("ENABLED")), (User.Status.DISABLED, _("DISABLED"))]
CLEARING_HOUSE_OPTION_LABELS = {"Cash": _("Cash"), "Derivatives": _("Derivatives")}


class ProfileForm(forms.Form):
    """The fields of "Create User Profile - Detail" and "Change User Profile - Detail"."""

    internal_external = forms.ChoiceField(label=_("Internal/External"), choices=INTERNAL_EXTERNAL_CHOICES)
    status = forms.ChoiceField(label=_("User Status"), choices=STATUS_CHOICES, widget=forms.RadioSelect)
    surname = forms.CharField(label=_("Surname"), max_length=60)
    other_names = forms.CharField(label=_("Other Names"), max_length=60, required=False)
    email = forms.EmailField(label=_("Email"), max_length=254)  # mandatory (§3.1)
    enable_from = DmsDateField(label=_("Enable From"))
    disable_after = DmsDateField(label=_("Disable After"))
    clearing_house_options = forms.ChoiceField(label=_("Clearing House Options"))  # shown translated
    access_channel = forms.ChoiceField(
        label=_("Access Channel"),
        choices=[(channel, channel) for channel in profiles.ACCESS_CHANNELS],
        widget=forms.Select(attrs={"lang": "en"}),
    )
    user_groups = forms.MultipleChoiceField(
        label=_("Selected User Groups"),
        choices=[(group, group) for group in profiles.USER_GROUPS],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "user-groups"}),
    )
    transaction_limit = forms.DecimalField(
        label=_("Transaction limit (HKD)"),
        min_value=Decimal("0"),
        max_value=profiles.MAX_TRANSACTION_LIMIT,
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0.00"),
        error_messages={"invalid": _("Enter an amount in HKD, e.g. 1000000.00.")},
    )

    def __init__(self, *args, participant: Participant, **kwargs):
        super().__init__(*args, **kwargs)
        options = profiles.clearing_house_options(participant)
        self.fields["clearing_house_options"].choices = [
            (option, CLEARING_HOUSE_OPTION_LABELS.get(option, option)) for option in options
        ]

    def clean_surname(self):
        value = self.cleaned_data["surname"].strip().upper()
        if not value:
            raise forms.ValidationError(_("Enter the surname."), code="required")
        return value

    def clean_other_names(self):
        return self.cleaned_data["other_names"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        if not dates_in_order(cleaned.get("enable_from"), cleaned.get("disable_after")):
            self.add_error("disable_after", DATES_OUT_OF_ORDER)
        return cleaned

    def payload(self) -> dict:
        """The after-values, as a request keeps them (`profiles.snapshot`)."""
        return {field: profiles.to_json(field, self.cleaned_data[field]) for field in profiles.PROFILE_FIELDS}


class CreateProfileForm(ProfileForm):
    user_id = UserIdField(
        label=_("User ID"),
        help_text=_("The two characters after the prefix, or press Generate User ID for the next free one."),
    )
    email = forms.EmailField(
        label=_("Email"), max_length=254, help_text=_("Users created after the launch of 2FA receive OTPs here.")
    )

    field_order = ["internal_external", "user_id", "status"]

    def __init__(self, *args, participant: Participant, **kwargs):
        super().__init__(*args, participant=participant, **kwargs)
        self.prefix_id = participant.participant_id

    def clean_user_id(self):
        """The whole User ID, or only the two characters after the participant's prefix shown beside the box."""
        value = self.cleaned_data["user_id"].strip().upper()
        return self.prefix_id + value if len(value) == 2 else value


class ChangeProfileForm(ProfileForm):
    unlock_reset = forms.BooleanField(label=_("Unlock/Reset OTP Device Registration"), required=False)
    smartcard_password = forms.CharField(
        label=_("Reset Smartcard Password"),
        required=False,
        min_length=6,
        max_length=8,
        strip=False,
        help_text=_("A new 6-8 digit smartcard password (only before smartcards are decommissioned)."),
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "new-password"}),
    )

    def __init__(self, *args, subject: User, smartcard_reset: bool, **kwargs):
        super().__init__(*args, participant=subject.participant, **kwargs)
        if subject.is_delegated_administrator:
            del self.fields["unlock_reset"]  # a DA's registration is reset by HKEX (DA3)
            if policies.smartcard_available():
                self.fields["user_groups"].help_text = (
                    "A Delegated Administrator can be given business user groups only after the "
                    "decommissioning of smartcards."
                )
        if not smartcard_reset:
            del self.fields["smartcard_password"]

    def clean_smartcard_password(self):
        value = self.cleaned_data.get("smartcard_password", "")
        if value and not value.isdigit():
            raise forms.ValidationError(_("The smartcard password is 6-8 digits."), code="smartcard_format")
        return value

    def payload(self) -> dict:
        data = super().payload()
        data["unlock_reset"] = bool(self.cleaned_data.get("unlock_reset"))
        return data


class PromptForm(forms.Form):
    """ "Change User Profile - Prompt": "User ID", "Submit"; "Search by" User ID or User Name, "List"."""

    user_id = UserIdField(label=_("User ID"), required=False)
    search_by = forms.ChoiceField(
        label=_("Search by"),
        choices=[("user_id", _("User ID")), ("name", _("User Name"))],
        initial="user_id",
        widget=forms.RadioSelect,
        required=False,
    )
    search_filter = forms.CharField(label=_("Search Filter"), max_length=60, required=False)


class AuthoriseForm(forms.Form):
    checker_id = UserIdField(label=_("Checker ID"))
    authorisation_code = forms.CharField(
        label=_("Authorisation Code"),
        max_length=OTP_MAX_INPUT,
        widget=forms.PasswordInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, code_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        # "Send Authorisation Code by e-mail" posts the same form before there is a code.
        self.fields["authorisation_code"].required = code_required

    def clean_authorisation_code(self):
        value = self.cleaned_data["authorisation_code"].replace(" ", "")
        if not value and not self.fields["authorisation_code"].required:
            return value
        lengths = {entry.code_digits for entry in factors.second_factors() if entry.gives_authorisation_code}
        if not value.isdigit() or len(value) not in lengths:
            raise forms.ValidationError(
                _("The Authorisation Code is the checker's %(app)d-digit app code or %(email)d-digit e-mail OTP."),
                code="otp_format",
                params={"app": factors.factor("app").code_digits, "email": factors.factor("email").code_digits},
            )
        return value


class RejectForm(forms.Form):
    # One message for a missing reason, whether the checker types a code or uses a passkey.
    reason = forms.CharField(label=_("Reason"), max_length=200, error_messages={"required": REASON_REQUIRED})


# -- back-office ---------------------------------------------------------------------

DA_ROLE_CHOICES = [(Role.DA_MAKER, Role.DA_MAKER.label), (Role.DA_CHECKER, Role.DA_CHECKER.label)]


class ParticipantField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=Participant.objects.all(), label=_("Participant"), to_field_name="participant_id", **kwargs
        )

    def label_from_instance(self, obj):
        return f"{obj.participant_id} {obj.name}"


class AddDaForm(forms.Form):
    participant = ParticipantField()
    role = forms.ChoiceField(label=_("Role"), choices=DA_ROLE_CHOICES)
    surname = forms.CharField(label=_("Surname"), max_length=60)
    other_names = forms.CharField(label=_("Other Names"), max_length=60, required=False)
    email = forms.EmailField(label=_("Email"), max_length=254)


DA_ACTIONS = [
    (action, EServiceRecord.Action(action).label)
    for action in (
        EServiceRecord.Action.UNLOCK,
        EServiceRecord.Action.ENABLE,
        EServiceRecord.Action.DISABLE,
        EServiceRecord.Action.DELETE,
        EServiceRecord.Action.RESET_OTP,
    )
]


class DaActionForm(forms.Form):
    """DA3 "Details of Requests": the DA's User ID and registered e-mail address, and the
    action (App. D.c b); the notification goes to the Client Connect submitter."""

    participant = ParticipantField()
    user_id = UserIdField(label=_("User ID"))
    email = forms.EmailField(label=_("Email"), max_length=254, help_text=_("The DA's registered e-mail address."))
    action = forms.ChoiceField(label=_("Action"), choices=DA_ACTIONS)
    submitter_email = forms.EmailField(
        label=_("Client Connect submitter's e-mail"),
        max_length=254,
        help_text=_("Receives the Client Connect notification when the request is completed."),
    )


class SmartcardResetForm(forms.Form):
    """eService SCard 1 - Smartcard Maintenance for DA: a DA's smartcard password (§4.1.2)."""

    participant = ParticipantField()
    user_id = UserIdField(label=_("DA User ID"))
    smartcard_password = forms.CharField(
        label=_("Reset Smartcard Password"),
        min_length=6,
        max_length=8,
        strip=False,
        help_text=_("A new 6-8 digit smartcard password (only before smartcards are decommissioned)."),
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "new-password"}),
    )

    def clean_smartcard_password(self):
        value = self.cleaned_data["smartcard_password"]
        if not value.isdigit():
            raise forms.ValidationError(_("The smartcard password is 6-8 digits."), code="smartcard_format")
        return value


class AssignRoleForm(forms.Form):
    participant = ParticipantField()
    user_id = UserIdField(label=_("User ID"))
    role = forms.ChoiceField(label=_("Role"), choices=DA_ROLE_CHOICES)


class GrantAccountsForm(forms.Form):
    participant = ParticipantField()
    accounts = forms.IntegerField(label=_("Additional user accounts"), min_value=1, max_value=1000)
