"""DMS checkers approve or reject from their own desk with a passkey (issue 18).

With `PORTAL_PASSKEYS` on, a DA checker who holds a passkey does not type an
Authorisation Code (`dms.services` refuses it). In their own DMS session,
"Pending Requests" lists the requests they may decide; deciding one is a
WebAuthn ceremony whose challenge is bound to that request and that decision:

    challenge = SHA-256("dms-approval" | nonce | request id | decision | content digest)

The nonce is random, kept in the checker's session with the request id and the
decision (one ceremony at a time, for `OTP_WEBAUTHN_TIMEOUT_SECONDS`). At the
end the challenge is derived again from the request as it is then, under its row
lock: an assertion made for request A cannot decide request B, nor approve what
it was given to reject, nor a request whose content changed after the ceremony
began (docs/security.md, "Passkey approval in DMS").

The rules of a decision are the code path's own: `services.authorise_request`
(with this module's proof in place of the typed code) and
`services.reject_request`. A failed or cancelled ceremony counts as a wrong
Authorisation Code does (`accounts.lockout.record_otp_failure`: 3 = one failed
logon), and that count is kept though the decision is refused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from accounts import factors, lockout
from accounts.models import Role, User
from ccass_portal import clock
from otp import passkeys

from . import services
from .models import ChangeRequest
from .rules import CHECKER_LOCKED, CHECKER_ONLY, REASON_REQUIRED, DmsRefusal

APPROVE = "approve"
REJECT = "reject"
DECISIONS = (APPROVE, REJECT)

SESSION_KEY = "dms_passkey_ceremony"

USE_PASSKEY = _("This checker approves with a passkey, from their own DMS session (Pending Requests).")
START_AGAIN = _("This passkey confirmation has expired or was for another request. Please start again.")
NO_PASSKEY = _("You have no passkey. Authorise with the Checker ID and Authorisation Code.")


# -- who approves by passkey ------------------------------------------------------------


def approves_by_passkey(user: User | None) -> bool:
    """The person holds a passkey while passkeys are switched on (the factor registry decides);
    as a DA checker they decide by passkey. Off, nobody does, and DMS is the seeds' DMS."""
    return bool(user is not None and user.pk and factors.factor("passkey").enrolled(user))


def passkey_desk(user: User | None) -> bool:
    """A DA checker who decides by passkey: their pages offer the ceremony, not the code."""
    return bool(user is not None and user.role == Role.DA_CHECKER and approves_by_passkey(user))


def decidable_by(checker: User):
    """The firm's pending requests this checker may decide: never one they prepared, never one
    about themselves (the same rules `services._checker_for` applies at the decision)."""
    from .selectors import pending_requests

    return pending_requests(checker.participant).exclude(maker=checker).exclude(subject_user_id=checker.user_id)


# -- the challenge ------------------------------------------------------------------------


def content_digest(cr: ChangeRequest, *, reason: str = "") -> bytes:
    """What the checker decides: the firm, maker, kind, subject, before and after, the new
    smartcard password's hash, and a rejection's reason."""
    content = {
        "participant": cr.participant_id,
        "maker": cr.maker_id,
        "kind": cr.kind,
        "user_id": cr.subject_user_id,
        "before": cr.before,
        "payload": cr.payload,
        "secret": cr.secret_hash,
        "reason": reason,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()).digest()


def bound_challenge(nonce: bytes, cr: ChangeRequest, decision: str, *, reason: str = "") -> bytes:
    parts = [b"dms-approval", nonce, str(cr.pk).encode(), decision.encode(), content_digest(cr, reason=reason)]
    return hashlib.sha256(b"\x00".join(parts)).digest()


# -- begin and finish -----------------------------------------------------------------------


@dataclass(frozen=True)
class Ceremony:
    cr: ChangeRequest
    decision: str
    options: dict


def begin(request_id: int, *, checker: User, decision: str, reason: str = "", request) -> Ceremony:
    """Options for the checker's authenticator, bound to this request and decision. The
    checker rules are checked (and a refusal audited) before any challenge is issued."""
    if decision not in DECISIONS:
        raise DmsRefusal(_("Unknown decision."))
    reason = (reason or "").strip()[:200]
    if decision == REJECT and not reason:
        raise DmsRefusal(REASON_REQUIRED, field="reason")
    if checker.role != Role.DA_CHECKER:
        raise DmsRefusal(CHECKER_ONLY)
    if not approves_by_passkey(checker):
        raise DmsRefusal(NO_PASSKEY)
    cr = services.pending_request(request_id, checker.participant_id)
    with services._auditing_refusals(request):
        services._checker_for(cr, checker.user_id)
    nonce = secrets.token_bytes(32)
    request.session[SESSION_KEY] = {
        "request": cr.pk,
        "checker": checker.pk,
        "decision": decision,
        "reason": reason,
        "nonce": nonce.hex(),
        "started": clock.now().timestamp(),
    }
    challenge = bound_challenge(nonce, cr, decision, reason=reason)
    options = passkeys.authentication_options(checker, request=request, challenge=challenge).options
    return Ceremony(cr=cr, decision=decision, options=options)


def ceremony_seconds() -> int:
    """How long a ceremony may take: the timeout the options give the browser."""
    return int(passkeys.ceremony_timeout().total_seconds())


def _taken_state(request, *, request_id: int, checker: User) -> dict:
    """The session's ceremony for this request and checker, used once; else a refusal."""
    state = request.session.pop(SESSION_KEY, None)
    timeout = ceremony_seconds()
    if (
        not isinstance(state, dict)
        or state.get("request") != request_id
        or state.get("checker") != checker.pk
        or clock.now().timestamp() - float(state.get("started", 0)) > timeout
    ):
        raise DmsRefusal(START_AGAIN)
    return state


def _proof(state: dict, response, *, request):
    """The passkey in place of the typed code: run by `services.authorise_request` under the
    request's row lock, so the digest is of the request as it is decided."""

    def prove(checker: User, cr: ChangeRequest) -> services.CodeCheck:
        nonce = bytes.fromhex(state["nonce"])
        expected = bound_challenge(nonce, cr, state["decision"], reason=state["reason"])
        detail = {"factor": "passkey", "decision": state["decision"]}
        try:
            passkeys.verify_authentication(checker, response, request=request, expected_challenge=expected)
        except passkeys.PasskeyError as error:
            # The reason says why (another web site, not your passkey), never what was expected.
            return services.CodeCheck(ok=False, detail={**detail, "failure": error.failure.name}, wrong=error.reason)
        return services.CodeCheck(ok=True, detail=detail)

    return prove


def finish(request_id: int, *, checker: User, response, request) -> ChangeRequest:
    """Decides the request the ceremony was begun for, or raises DmsRefusal. `response` is the
    browser's credential JSON (a dict or a string; anything else fails as a wrong proof)."""
    state = _taken_state(request, request_id=request_id, checker=checker)
    prove = _proof(state, response, request=request)
    if state["decision"] == APPROVE:
        return services.authorise_request(
            request_id, participant_id=checker.participant_id, checker_id=checker.user_id, proof=prove, request=request
        )
    return services.reject_request(request_id, checker=checker, reason=state["reason"], proof=prove, request=request)


def cancelled(request_id: int, *, checker: User, request) -> None:
    """The browser's ceremony failed or was cancelled: counted as a wrong Authorisation Code,
    once per ceremony begun (a post without a ceremony counts nothing)."""
    state = _taken_state(request, request_id=request_id, checker=checker)
    failure = passkeys.PasskeyFailure.CANCELLED
    locked = lockout.record_otp_failure(
        checker,
        request=request,
        request_id=request_id,
        factor="passkey",
        decision=state["decision"],
        failure=failure.name,
    )
    raise DmsRefusal(CHECKER_LOCKED if locked else passkeys.PasskeyError(failure).reason, field="passkey")
