"""The roster rule (§5.1): every participant keeps at least one DA maker and two
DA checkers. A DA counts while the profile exists and is ENABLED.

DMS warns while a firm is below the rule, and no DMS or back-office action may
take a firm's count of makers or checkers below its minimum.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from accounts.models import Participant, Role, User

MINIMUM = {Role.DA_MAKER: 1, Role.DA_CHECKER: 2}


class RosterBreach(Exception):
    """The action would leave the firm without one DA maker and two DA checkers."""


@dataclass(frozen=True)
class Roster:
    makers: int
    checkers: int

    @property
    def compliant(self) -> bool:
        return self.makers >= MINIMUM[Role.DA_MAKER] and self.checkers >= MINIMUM[Role.DA_CHECKER]

    def count(self, role: str) -> int:
        return {Role.DA_MAKER: self.makers, Role.DA_CHECKER: self.checkers}.get(role, 0)

    @property
    def warning(self) -> str:
        if self.compliant:
            return ""
        return _(
            "Each participant should assign at least one DA maker and two DA checkers "
            "(now: %(makers)d DA maker(s), %(checkers)d DA checker(s)). Ask HKEX to add DAs (eService DA3)."
        ) % {"makers": self.makers, "checkers": self.checkers}


def roster_of(participant: Participant) -> Roster:
    counts = User.objects.filter(participant=participant, status=User.Status.ENABLED).aggregate(
        makers=Count("pk", filter=Q(role=Role.DA_MAKER)),
        checkers=Count("pk", filter=Q(role=Role.DA_CHECKER)),
    )
    return Roster(makers=counts["makers"], checkers=counts["checkers"])


def counts_on_roster(user: User) -> bool:
    return user.deleted_at is None and user.status == User.Status.ENABLED and user.is_delegated_administrator


def check_roster(user: User, *, role: str | None = None, enabled: bool = True, deleted: bool = False) -> None:
    """Raise RosterBreach if giving `user` this role/state would take the firm below the rule.

    Call it inside the transaction that makes the change, after locking the
    participant row, so two concurrent removals cannot both pass.
    """
    if user.participant_id is None or not counts_on_roster(user):
        return
    new_role = role if role is not None else user.role
    stays = enabled and not deleted and new_role == user.role
    if stays:
        return
    roster = roster_of(user.participant)
    if roster.count(user.role) - 1 < MINIMUM[user.role]:
        raise RosterBreach(
            _(
                "This would leave %(participant)s with fewer than one DA maker and two DA checkers "
                "(now: %(makers)d DA maker(s), %(checkers)d DA checker(s))."
            )
            % {"participant": user.participant.participant_id, "makers": roster.makers, "checkers": roster.checkers}
        )
