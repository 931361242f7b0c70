"""The passkey's entry in the factor registry (accounts.passkeys.PasskeyFactor; issue 18)."""

from __future__ import annotations

from accounts import factors
from accounts.models import User
from tests.passkey_authenticator import enrol_credential


def test_what_the_passkey_allows():
    entry = factors.factor("passkey")
    assert entry.allows_self_service_reset is True  # like the app
    assert entry.code_digits is None  # nothing to type
    assert entry.gives_authorisation_code is False  # a checker approves by a ceremony instead
    assert entry not in factors.second_factors()  # beside the stored choice, not one of them
    assert entry.label == "Passkey"


def test_a_holder_has_it_among_their_factors_only_while_passkeys_are_on(app_user, email_user, settings):
    user, _ = app_user
    enrol_credential(user)
    entry = factors.factor("passkey")
    assert entry.enrolled(user) and not entry.enrolled(email_user)
    assert [f.key for f in factors.factors_of(user)] == ["app", "passkey"]
    assert set(User.objects.filter(entry.in_use()).values_list("user_id", flat=True)) == {user.user_id}
    assert factors.second_factor_of(user).key == "app"  # the OTP step stays the app's
    settings.PORTAL_PASSKEYS = False
    assert not entry.enrolled(user)
    assert [f.key for f in factors.factors_of(user)] == ["app"]
    assert not User.objects.filter(entry.in_use()).exists()


def test_nothing_typed_proves_a_passkey(app_user):
    user, app = app_user
    enrol_credential(user)
    assert not factors.factor("passkey").verify(user, app.code(), purpose=None)


def test_removing_the_factor_removes_every_passkey(app_user):
    user, _ = app_user
    enrol_credential(user)
    enrol_credential(user)
    factors.factor("passkey").remove(user)
    assert not user.webauthncredential_set.exists()
