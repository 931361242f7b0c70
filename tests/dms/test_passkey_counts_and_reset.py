"""Passkey holders in DMS and the back-office (issue 18): "OTP Enabled", the 2FA readiness
report and the migration readiness dashboard count them (the factor registry's passkey
entry decides, accounts/factors.py); a DA's "Unlock/Reset OTP Device Registration" and
HKEX's DA3 reset remove their passkeys too, in the reset's transaction and audit row."""

from __future__ import annotations

import csv
import io

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import AuditEvent, User
from dms import backoffice, dashboard, profiles, selectors, services
from dms.models import ChangeRequest, EServiceRecord
from tests.passkey_authenticator import enrol_credential

# The demo (one command, SQLite) has passkeys on: these run in the embedded pass too.
pytestmark = pytest.mark.embedded

PASSKEY_HOLDERS = "Passkey holders (beside their OTP)"


def readiness_figures(client) -> dict[str, str]:
    rows = csv.reader(io.StringIO(client.get("/dms/reports/2fa-readiness/", {"format": "csv"}).content.decode()))
    return {row[0]: row[1] for row in rows if len(row) >= 2}


@pytest.fixture
def holders(roster):
    """The firm's checker and its business user hold passkeys (the user two)."""
    enrol_credential(roster.checker)
    enrol_credential(roster.user)
    enrol_credential(roster.user)
    return roster


@pytest.mark.django_db
def test_readiness_report_and_dashboard_count_passkey_holders(holders, logged_in_client, settings):
    settings.PORTAL_PASSKEYS = True
    maker = logged_in_client(holders.maker, holders.maker_app)
    assert readiness_figures(maker)[PASSKEY_HOLDERS] == "2"  # people, not passkeys
    assert PASSKEY_HOLDERS in maker.get("/dms/reports/2fa-readiness/").content.decode()
    firm = dashboard.firm_readiness(holders.maker.participant)
    assert dict(dashboard.figure_lines(firm))[PASSKEY_HOLDERS] == 2
    twofa = dashboard.charts(firm)[1]  # a passkey is held beside a channel: a figure, not a segment
    assert twofa.total == firm.readiness.total and PASSKEY_HOLDERS not in [str(s.label) for s in twofa.segments]
    assert PASSKEY_HOLDERS in maker.get("/dms/reports/migration-readiness/").content.decode()
    readiness, _rows = selectors.twofa_readiness(holders.maker.participant)
    assert (PASSKEY_HOLDERS, "2") in [(str(label), value) for label, value in readiness.lines]


@pytest.mark.django_db
def test_back_office_dashboard_counts_passkey_holders(holders, operator, logged_in_client, settings):
    settings.PORTAL_PASSKEYS = True
    client = logged_in_client(*operator, portal="backoffice")
    page = client.get("/backoffice/migration-readiness/").content.decode()
    assert PASSKEY_HOLDERS in page
    totals = dashboard.totals(dashboard.firms_readiness(holders.maker.participant.__class__.objects.all()))
    assert dict(dashboard.figure_lines(totals))[PASSKEY_HOLDERS] == 2


@pytest.mark.django_db
def test_switched_off_the_reports_are_the_seeds(holders, logged_in_client, settings):
    settings.PORTAL_PASSKEYS = False
    maker = logged_in_client(holders.maker, holders.maker_app)
    assert PASSKEY_HOLDERS not in readiness_figures(maker)
    assert PASSKEY_HOLDERS not in maker.get("/dms/reports/migration-readiness/").content.decode()
    assert "Passkey" not in maker.get(f"/dms/profiles/{holders.user.user_id}/enquire/").content.decode()


@pytest.mark.django_db
def test_otp_enabled_names_the_passkey(holders, logged_in_client, settings):
    settings.PORTAL_PASSKEYS = True
    maker = logged_in_client(holders.maker, holders.maker_app)
    page = maker.get(f"/dms/profiles/{holders.user.user_id}/enquire/").content.decode()
    cell = page.split('id="profile-otp-enabled">', 1)[1].split("</td>", 1)[0]
    assert cell.startswith("Yes") and "Passkey" in cell


# -- the reset removes passkeys ---------------------------------------------------------------


def _unlock_reset(roster, subject: User) -> ChangeRequest:
    payload = {k: v for k, v in profiles.snapshot(subject).items() if k in profiles.PROFILE_FIELDS}
    cr = services.prepare_request(
        maker=roster.maker,
        kind=ChangeRequest.Kind.CHANGE,
        subject_user_id=subject.user_id,
        payload={**payload, "unlock_reset": True},
    )
    return services.authorise_request(
        cr.pk,
        participant_id=cr.participant_id,
        checker_id=roster.checker2.user_id,
        code=roster.checker2_app.code(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("switch", [True, False])
def test_a_das_unlock_reset_removes_the_users_passkeys(holders, settings, switch):
    """Also while passkeys are switched off: switched on again, a reset person holds none."""
    settings.PORTAL_PASSKEYS = switch
    _unlock_reset(holders, holders.user)
    assert not WebAuthnCredential.objects.filter(user=holders.user).exists()
    assert WebAuthnCredential.objects.filter(user=holders.checker).exists()  # nobody else's
    row = AuditEvent.objects.get(kind="registration_reset", subject=holders.user)
    assert row.data["passkeys_removed"] == 2


@pytest.mark.django_db
@pytest.mark.parametrize("action", [EServiceRecord.Action.RESET_OTP, EServiceRecord.Action.UNLOCK])
def test_hkex_da3_reset_removes_the_das_passkeys(holders, operator, settings, action):
    settings.PORTAL_PASSKEYS = True
    backoffice.act_on_da(
        operator=operator[0], participant=holders.checker.participant, user_id=holders.checker.user_id, action=action
    )
    assert not WebAuthnCredential.objects.filter(user=holders.checker).exists()
    assert WebAuthnCredential.objects.filter(user=holders.user).count() == 2
    row = AuditEvent.objects.get(kind="registration_reset", subject=holders.checker)
    assert row.data["passkeys_removed"] == 1 and row.actor_id == operator[0].pk
