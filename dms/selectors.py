"""What DMS reads: the firm's profiles, its listing and its reports.

Every function takes the participant and reads nothing of any other firm.
Each answers in a fixed number of queries, however many profiles a firm has.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OtpChannel, Participant, Role, User

from .models import ChangeRequest
from .roster import Roster, roster_of

DA_ROLES = (Role.DA_MAKER, Role.DA_CHECKER)
ROLE_LABELS = dict(Role.choices)
LISTING_COLUMNS = (_("User ID"), _("User Name"), _("Email"), _("Role"), _("User Status"))


def profile_of(participant: Participant, user_id: str) -> User | None:
    return User.objects.filter(participant=participant, user_id=(user_id or "").strip().upper()).first()


def search_profiles(participant: Participant, *, by: str, text: str):
    """ "Enquire User Profile": "Search by" User ID or User Name, "List"."""
    qs = User.objects.filter(participant=participant).only("user_id", "surname", "other_names", "role", "status")
    text = (text or "").strip()
    if text and by == "name":
        for word in text.split():
            qs = qs.filter(Q(surname__icontains=word) | Q(other_names__icontains=word))
    elif text:
        qs = qs.filter(user_id__startswith=text.upper())
    return qs.order_by("user_id")


# -- User Profile Listing --------------------------------------------------------------


@dataclass(frozen=True)
class ListingFooter:
    max_users: int
    total_users: int
    total_das: int

    @property
    def lines(self) -> list[tuple[str, str]]:
        """The five footer lines, verbatim (§4.3.1)."""
        return [
            (_("MAX. NO. OF USERS"), f": {self.max_users}"),
            (_("TOTAL NO. OF USERS"), f": {self.total_users}"),
            (_("TOTAL NO. OF DELEGATED ADMINISTRATORS"), f": {self.total_das}"),
            (_("TOTAL NO. OF USERS EXCEPT DELEGATED ADMINISTRATORS"), f": {self.total_users - self.total_das}"),
            (_("*** END OF REPORT ***"), ""),
        ]


def profile_listing(participant: Participant) -> tuple[list[tuple], ListingFooter]:
    """Every user and DA of the firm (User ID, name, e-mail, role, status), and the footer."""
    rows = list(
        User.objects.filter(participant=participant)
        .order_by("user_id")
        .values_list("user_id", "surname", "other_names", "email", "role", "status")
    )
    listing = [
        (user_id, f"{surname} {other}".strip(), email, ROLE_LABELS[role], str(User.Status(status).label))
        for user_id, surname, other, email, role, status in rows
    ]
    das = sum(1 for row in rows if row[4] in DA_ROLES)
    return listing, ListingFooter(max_users=participant.max_users, total_users=len(rows), total_das=das)


# -- View Reports ----------------------------------------------------------------------


def request_trail(participant: Participant):
    """The audit trail of the firm's DMS requests: maker, checker, subject, before/after, times."""
    return ChangeRequest.objects.filter(participant=participant).select_related("maker", "checker")


def pending_requests(participant: Participant):
    return request_trail(participant).filter(status=ChangeRequest.Status.PENDING)


@dataclass(frozen=True)
class Readiness:
    total: int
    without_email: int
    not_set_up: int
    app: int
    email: int
    smartcard_only: int
    locked: int
    roster: Roster

    @property
    def lines(self) -> list[tuple[str, str]]:
        return [
            (_("Profiles"), str(self.total)),
            (_("Without a registered e-mail address"), str(self.without_email)),
            (_("2FA not yet set up"), str(self.not_set_up)),
            (_("OTP by mobile application"), str(self.app)),
            (_("OTP by e-mail"), str(self.email)),
            (_("Still smartcard only (SRN, no 2FA)"), str(self.smartcard_only)),
            (_("Locked"), str(self.locked)),
            (_("DA makers / DA checkers (enabled)"), f"{self.roster.makers} / {self.roster.checkers}"),
            (_("At least one DA maker and two DA checkers"), str(_("Yes")) if self.roster.compliant else str(_("No"))),
        ]


def twofa_readiness(participant: Participant) -> tuple[Readiness, list[tuple]]:
    """The 2FA readiness of the firm: counts, and one row per profile."""
    users = User.objects.filter(participant=participant)
    not_set_up = Q(twofa_set_up_at__isnull=True)
    counts = users.aggregate(
        total=Count("pk"),
        without_email=Count("pk", filter=Q(email="")),
        not_set_up=Count("pk", filter=not_set_up),
        app=Count("pk", filter=Q(otp_channel=OtpChannel.APP) & ~not_set_up),
        email=Count("pk", filter=Q(otp_channel=OtpChannel.EMAIL) & ~not_set_up),
        smartcard_only=Count("pk", filter=not_set_up & ~Q(srn="")),
        locked=Count("pk", filter=Q(locked_at__isnull=False)),
    )
    readiness = Readiness(roster=roster_of(participant), **counts)
    rows = [
        (
            user_id,
            ROLE_LABELS[role],
            email or str(_("(none)")),
            str(_("Yes")) if set_up else str(_("No")),
            OtpChannel(channel).label if set_up else "",
            str(_("Yes")) if srn and not set_up else "",
            str(_("Yes")) if locked_at else "",
        )
        for user_id, role, email, set_up, channel, srn, locked_at in users.order_by("user_id").values_list(
            "user_id", "role", "email", "twofa_set_up_at", "otp_channel", "srn", "locked_at"
        )
    ]
    return readiness, rows


READINESS_COLUMNS = (_("User ID"), _("Role"), _("Email"), _("2FA set up"), _("OTP channel"), _("Smartcard only"), _("Locked"))
