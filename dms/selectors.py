"""What DMS reads: the firm's profiles, its listing and its reports.

Every function takes the participant and reads nothing of any other firm.
Each answers in a fixed number of queries, however many profiles a firm has.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts import factors
from accounts.models import DA_ROLES, Participant, Role, User

from .models import ChangeRequest
from .roster import Roster

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


def smartcard_only() -> Q:
    """Still only on the smartcard: no 2FA yet, and a card that would still log on (§5)."""
    return factors.factor("smartcard").in_use()


def _factor_field(entry: factors.Factor) -> str:
    return f"factor_{entry.key}"


def counted_factors() -> list[factors.Factor]:
    """The factors with a readiness figure: each second factor (a partition by chosen factor)
    and each factor held beside one while switched on (the passkey: people holding one)."""
    return [*factors.second_factors(), *factors.held_beside()]


def readiness_counts() -> dict[str, Count]:
    """The 2FA readiness figures as aggregates over a firm's (not deleted) profiles: the one
    definition the 2FA readiness report and the migration readiness dashboard both use."""
    not_set_up = Q(twofa_set_up_at__isnull=True)
    enabled = Q(status=User.Status.ENABLED)
    return {
        "total": Count("pk"),
        "without_email": Count("pk", filter=Q(email="")),
        "not_set_up": Count("pk", filter=not_set_up),
        # One figure per factor of the registry: the people set up with it, or holding it.
        **{_factor_field(entry): Count("pk", filter=entry.in_use()) for entry in counted_factors()},
        "smartcard_only": Count("pk", filter=smartcard_only()),
        "locked": Count("pk", filter=Q(locked_at__isnull=False)),
        "makers": Count("pk", filter=enabled & Q(role=Role.DA_MAKER)),
        "checkers": Count("pk", filter=enabled & Q(role=Role.DA_CHECKER)),
    }


@dataclass(frozen=True)
class Readiness:
    total: int
    without_email: int
    not_set_up: int
    by_factor: dict[str, int]  # people set up with each second factor, by its key
    smartcard_only: int
    locked: int
    roster: Roster

    @classmethod
    def from_counts(cls, row: dict) -> Readiness:
        """From one row of `readiness_counts()`."""
        row = dict(row)
        roster = Roster(makers=row.pop("makers"), checkers=row.pop("checkers"))
        by_factor = {entry.key: row.pop(_factor_field(entry)) for entry in counted_factors()}
        return cls(roster=roster, by_factor=by_factor, **row)

    def factor_counts(self) -> list[tuple[factors.Factor, int]]:
        """(factor, people set up with it) for every second factor, in registry order."""
        return [(entry, self.by_factor.get(entry.key, 0)) for entry in factors.second_factors()]

    def beside_counts(self) -> list[tuple[factors.Factor, int]]:
        """(factor, people holding it) for every factor held beside the chosen one (the passkey)."""
        return [(entry, self.by_factor.get(entry.key, 0)) for entry in factors.held_beside()]

    @property
    def lines(self) -> list[tuple[str, str]]:
        return [
            (_("Profiles"), str(self.total)),
            (_("Without a registered e-mail address"), str(self.without_email)),
            (_("2FA not yet set up"), str(self.not_set_up)),
            *[(entry.readiness_label, str(count)) for entry, count in self.factor_counts() + self.beside_counts()],
            (_("Smartcard only (no 2FA, card still valid)"), str(self.smartcard_only)),
            (_("Locked"), str(self.locked)),
            (_("DA makers / DA checkers (enabled)"), f"{self.roster.makers} / {self.roster.checkers}"),
            (_("At least one DA maker and two DA checkers"), str(_("Yes")) if self.roster.compliant else str(_("No"))),
        ]


def twofa_readiness(participant: Participant) -> tuple[Readiness, list[tuple]]:
    """The 2FA readiness of the firm: counts, and one row per profile."""
    users = User.objects.filter(participant=participant)
    readiness = Readiness.from_counts(users.aggregate(**readiness_counts()))
    card_only = set(users.filter(smartcard_only()).values_list("pk", flat=True))
    rows = [
        (
            user_id,
            ROLE_LABELS[role],
            email or str(_("(none)")),
            str(_("Yes")) if set_up else str(_("No")),
            _factor_label(channel) if set_up else "",
            str(_("Yes")) if pk in card_only else "",
            str(_("Yes")) if locked_at else "",
        )
        for pk, user_id, role, email, set_up, channel, locked_at in users.order_by("user_id").values_list(
            "pk", "user_id", "role", "email", "twofa_set_up_at", "otp_channel", "locked_at"
        )
    ]
    return readiness, rows


def _factor_label(channel: str) -> str:
    entry = factors.by_channel(channel)
    return entry.label if entry is not None else ""


READINESS_COLUMNS = (
    _("User ID"),
    _("Role"),
    _("Email"),
    _("2FA set up"),
    _("OTP channel"),
    _("Smartcard only"),
    _("Locked"),
)


# -- requests awaiting authorisation ----------------------------------------------------


def pending_request_for(participant: Participant, user_id: str, *, exclude: int | None = None) -> ChangeRequest | None:
    qs = ChangeRequest.objects.filter(
        participant=participant, subject_user_id=user_id, status=ChangeRequest.Status.PENDING
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.first()


def pending_create_ids(participant: Participant) -> set[str]:
    qs = ChangeRequest.objects.filter(
        participant=participant, kind=ChangeRequest.Kind.CREATE, status=ChangeRequest.Status.PENDING
    )
    return set(qs.values_list("subject_user_id", flat=True))
