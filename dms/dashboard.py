"""The migration readiness dashboard (issue 8, item 6): how far each firm is on the way
from smartcards to 2FA, and the section 9 checklist of the Information Package.

One grouped aggregate query answers every firm at once (or the DA's own firm), so the
number of queries does not grow with the number of profiles. The figures of one firm
are a `selectors.Readiness`, the same record the per-firm 2FA readiness report shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from accounts import factors
from accounts.models import Participant, User

from .roster import Roster
from .selectors import Readiness, readiness_counts


class _Derived:
    """What follows from a Readiness: profiles with an e-mail address, profiles on 2FA."""

    readiness: Readiness

    @property
    def email_registered(self) -> int:
        return self.readiness.total - self.readiness.without_email

    @property
    def set_up(self) -> int:
        return self.readiness.total - self.readiness.not_set_up


@dataclass(frozen=True)
class FirmReadiness(_Derived):
    participant_id: str
    name: str
    readiness: Readiness


def firms_readiness(participants) -> list[FirmReadiness]:
    """One FirmReadiness per participant of `participants` (a queryset), in two queries."""
    firms = list(participants.order_by("participant_id").values_list("pk", "participant_id", "name"))
    counts = readiness_counts()
    by_firm = {
        row.pop("participant"): row
        for row in User.objects.filter(participant__in=[pk for pk, _pid, _name in firms])
        .order_by()
        .values("participant")
        .annotate(**counts)
    }
    zero = dict.fromkeys(counts, 0)
    return [FirmReadiness(pid, name, Readiness.from_counts(by_firm.get(pk, zero))) for pk, pid, name in firms]


def firm_readiness(participant: Participant) -> FirmReadiness:
    return firms_readiness(Participant.objects.filter(pk=participant.pk))[0]


@dataclass(frozen=True)
class Totals(_Derived):
    firms: int
    compliant_firms: int
    readiness: Readiness  # the sums; its roster is the sum of makers and checkers


def totals(firms: list[FirmReadiness]) -> Totals:
    fields = ("total", "without_email", "not_set_up", "smartcard_only", "locked")
    sums = {name: sum(getattr(f.readiness, name) for f in firms) for name in fields}
    sums["by_factor"] = {
        entry.key: sum(f.readiness.by_factor.get(entry.key, 0) for f in firms) for entry in factors.second_factors()
    }
    roster = Roster(
        makers=sum(f.readiness.roster.makers for f in firms), checkers=sum(f.readiness.roster.checkers for f in firms)
    )
    return Totals(
        firms=len(firms),
        compliant_firms=sum(1 for f in firms if f.readiness.roster.compliant),
        readiness=Readiness(roster=roster, **sums),
    )


# -- the figures as labelled lines (page, CSV) ------------------------------------------------


def figure_lines(firm: FirmReadiness | Totals) -> list[tuple[str, int | str]]:
    r = firm.readiness
    return [
        (_("Profiles"), r.total),
        (_("E-mail registered"), firm.email_registered),
        (_("Without a registered e-mail address"), r.without_email),
        (_("2FA set up"), firm.set_up),
        *[(entry.readiness_label, count) for entry, count in r.factor_counts()],
        (_("2FA not yet set up"), r.not_set_up),
        (_("Smartcard only (no 2FA, card still valid)"), r.smartcard_only),
        (_("Locked"), r.locked),
        (_("DA makers (enabled)"), r.roster.makers),
        (_("DA checkers (enabled)"), r.roster.checkers),
    ]


def firm_columns() -> tuple:
    """The all-firms table's columns: one per second factor of the registry (accounts.factors)."""
    return (
        _("Participant ID"),
        _("Participant"),
        _("Profiles"),
        _("E-mail registered"),
        _("2FA set up"),
        *[entry.readiness_label for entry in factors.second_factors()],
        _("Smartcard only"),
        _("Locked"),
        _("DA makers"),
        _("DA checkers"),
        _("Roster compliant"),
    )


def firm_row(firm: FirmReadiness) -> tuple:
    r = firm.readiness
    return (
        firm.participant_id,
        firm.name,
        r.total,
        firm.email_registered,
        firm.set_up,
        *[count for _entry, count in r.factor_counts()],
        r.smartcard_only,
        r.locked,
        r.roster.makers,
        r.roster.checkers,
        yes_no(r.roster.compliant),
    )


def totals_row(total: Totals) -> tuple:
    r = total.readiness
    return (
        _("Total"),
        _("%(firms)s firms") % {"firms": total.firms},
        r.total,
        total.email_registered,
        total.set_up,
        *[count for _entry, count in r.factor_counts()],
        r.smartcard_only,
        r.locked,
        r.roster.makers,
        r.roster.checkers,
        _("%(compliant)s of %(firms)s") % {"compliant": total.compliant_firms, "firms": total.firms},
    )


def yes_no(value: bool) -> str:
    return str(_("Yes")) if value else str(_("No"))


# -- the section 9 checklist ----------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    number: int
    section: str
    text: str
    done: bool | None  # None: the data cannot tell; the participant's own to-do

    @property
    def answered(self) -> bool:
        return self.done is not None


SECTION_A = _("(A) CPs and DBs should have already done:")
SECTION_B = _("(B) Checklist on 10 June 2023 (Saturday)")
SECTION_C = _("(C) Checklist on 12 June 2023 (Monday) – Launch of 2FA")

CHECKLIST_TEXT = [  # section 9 of the Information Package (item 3 without its circular references)
    (SECTION_A, _("Have you registered the designated email for all users and DAs for the regular password setup?")),
    (SECTION_A, _("Have you checked if the CCASS/ CCMS Terminal or DMS URL are bookmarked correctly?")),
    (SECTION_A, _("Have you performed connectivity verification for new CCASS/ CCMS 2FA servers?")),
    (SECTION_A, _("Have you informed all users and DAs in your company for the change of authentication arrangement?")),
    (SECTION_A, _("Is each user and DA aware of their User ID?")),
    (SECTION_B, _('Have you read and understood this document ("Information Package for the Launch of 2FA")?')),
    (
        SECTION_B,
        _(
            "Do you know the current network setting and configuration for CCASS/ CCMS Terminal and DMS "
            "remain unchanged upon the launch of 2FA (on 12 June 2023)?"
        ),
    ),
    (SECTION_B, _("Do you know how to initialize 2FA?")),
    (
        SECTION_B,
        _(
            "Please ensure the registered email address of the user and DA can be accessed to obtain OTP for "
            "password setup during post-release connectivity test."
        ),
    ),
    (
        SECTION_B,
        _(
            "Please prepare a mobile device and download ForgeRock Authenticator App for receiving OTP by "
            "mobile application (if needed)"
        ),
    ),
    (
        SECTION_B,
        _(
            "If you are not using HKEX provided DNS services, do you know the IP addresses of the Primary "
            "Data Centre and Secondary Data Centre for the post-release connectivity test?"
        ),
    ),
    (SECTION_C, _("Have you setup password and OTP channel to initialize 2FA?")),
    (
        SECTION_C,
        _(
            "If the user is current Client Connect/ VaR Online user, same ForgeRock Authenticator app will be "
            "used for OTP generation."
        ),
    ),
    (
        SECTION_C,
        _("Have your ensured your operational teams will login CCASS/ CCMS Terminal and DMS by 2FA going forward?"),
    ),
    (
        SECTION_C,
        _(
            "Do you know that you should retain the smartcard and smartcard reader until the decommissioning "
            "of smartcard in a later stage?"
        ),
    ),
]


def checklist(firm: FirmReadiness | Totals) -> list[ChecklistItem]:
    """Items 1-15; the data answers 1 (every profile has an e-mail address), 12 (every
    profile has set up its password and OTP channel) and 14 (nobody still on the card only)."""
    r = firm.readiness
    answers = {1: r.without_email == 0, 12: r.not_set_up == 0, 14: r.smartcard_only == 0}
    return [
        ChecklistItem(number, section, text, answers.get(number))
        for number, (section, text) in enumerate(CHECKLIST_TEXT, start=1)
    ]


def checklist_rows(items: list[ChecklistItem]) -> list[tuple]:
    return [
        (item.number, item.text, yes_no(item.done) if item.answered else str(_("Participant to confirm")))
        for item in items
    ]


CHECKLIST_COLUMNS = (_("Item"), _("ITEMS TO BE CHECKED"), _("Status"))


# -- the charts (server-side SVG) ---------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    label: str
    value: int
    css: str
    x: float = 0.0
    width: float = 0.0
    share: int = 0  # whole percent; a chart's shares add up to 100


def whole_percents(values: list[int]) -> list[int]:
    """Largest-remainder rounding: whole percents that add up to exactly 100 (or all 0)."""
    total = sum(values)
    if not total:
        return [0] * len(values)
    exact = [100 * value / total for value in values]
    shares = [int(e) for e in exact]
    by_remainder = sorted(range(len(values)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: 100 - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    description: str
    segments: list[Segment]
    total: int


def _chart(slug: str, title: str, parts: list[tuple[str, int, str]]) -> Chart:
    """A horizontal bar of 100 units split into the parts; x and width in percent."""
    total = sum(value for _label, value, _css in parts)
    shares = whole_percents([value for _label, value, _css in parts])
    segments, x = [], 0.0
    for (label, value, css), share in zip(parts, shares):
        width = round(100 * value / total, 2) if total else 0.0
        segments.append(Segment(label, value, css, x, width, share))
        x = round(x + width, 2)
    description = "; ".join(f"{label}: {value}" for label, value, _css in parts)
    return Chart(slug, title, description, segments, total)


def charts(firm: FirmReadiness | Totals) -> list[Chart]:
    r = firm.readiness
    not_set_up_other = r.not_set_up - r.smartcard_only
    return [
        _chart(
            "email",
            _("E-mail registered"),
            [
                (_("E-mail registered"), firm.email_registered, "good"),
                (_("Without a registered e-mail address"), r.without_email, "bad"),
            ],
        ),
        _chart(
            "twofa",
            _("2FA set up and OTP channel"),
            [
                *[(entry.readiness_label, count, entry.readiness_tone) for entry, count in r.factor_counts()],
                (_("Smartcard only (no 2FA, card still valid)"), r.smartcard_only, "warn"),
                (_("2FA not yet set up, no valid smartcard"), not_set_up_other, "bad"),
            ],
        ),
    ]
