"""The HKEX Password Policy and the modern checks beside it (§4, SECURITY.md 22)."""

import pytest
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from accounts.password_validation import HKEX_SPECIALS, HkexPasswordPolicyValidator
from accounts.reset import apply_new_password
from tests.factories import GOOD_PASSWORD, make_user


def codes(password, user=None):
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return {e.code for e in exc.error_list}
    return set()


@pytest.mark.parametrize(
    "password,code",
    [
        ("Short(1)a", "password_too_short"),
        ("nodigitsatall(Abcdefgh)", "password_no_number"),
        ("NOLOWERCASE(12345678)X", "password_no_lower"),
        ("nocapitals(12345678)xx", "password_no_capital"),
        ("NoSpecialCharacter12345", "password_no_special"),
        ("No-special_char+here123A", "password_no_special"),  # - _ + are not in !@#$%^&*()
    ],
)
def test_each_failed_rule_is_named(password, code):
    assert code in codes(password)


def test_every_failed_rule_is_reported_at_once():
    assert codes("abc") >= {"password_too_short", "password_no_number", "password_no_special", "password_no_capital"}


@pytest.mark.parametrize("special", list(HKEX_SPECIALS))
def test_each_hkex_special_counts(special):
    assert codes(f"Abcdefghijklmn1{special}") == set()


def test_sixteen_exactly_is_enough_fifteen_is_not():
    assert codes("Abcdefghijklm1(x") == set()
    assert "password_too_short" in codes("Abcdefghijkl1(x")


@pytest.mark.django_db
def test_sec22_long_unicode_and_spaces_are_accepted_and_never_truncated(participant):
    user = make_user(participant, "B0123401")
    passphrase = "Correct horse battery staple 香港交易所 (2026) " * 2  # 90+ characters
    assert len(passphrase) > 64 and codes(passphrase, user) == set()
    apply_new_password(user, passphrase)
    user.refresh_from_db()
    assert user.check_password(passphrase)
    assert not user.check_password(passphrase[:-1])  # every character counts
    assert not user.check_password(passphrase[:72])  # no bcrypt-style truncation


@pytest.mark.django_db
def test_sec22_context_words_are_refused(participant):
    user = make_user(participant, "B0123401")
    assert "password_contains_user_id" in codes("Mine(b0123401)Secret", user)
    assert "password_contains_firm" in codes("AbcSecurities(2026)x", user)
    assert "password_contains_firm" in codes("Password(B01234)xyz", user)
    assert "password_contains_service_name" in codes("MyHkexLogin(2026)xy", user)
    assert "password_contains_service_name" in codes("CcassPassword(2026)", user)


@pytest.mark.django_db
def test_sec22_new_password_differs_from_the_last_five(participant):
    user = make_user(participant, "B0123401")
    history = [f"Passphrase-{n}(Abcdefgh)" for n in range(6)]
    for password in history:
        assert codes(password, user) == set()
        apply_new_password(user, password)
    for recent in history[1:]:
        assert "password_reused" in codes(recent, user)
    assert codes(history[0], user) == set()  # the sixth-last may come back


@pytest.mark.django_db
def test_argon2id_with_asvs_parameters_and_old_hashes_upgrade_on_check(participant):
    from django.contrib.auth.hashers import make_password

    user = make_user(participant, "B0123401", password=GOOD_PASSWORD)
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    user.password = make_password(GOOD_PASSWORD, hasher="pbkdf2_sha256")
    user.save()
    assert identify_hasher(user.password).algorithm == "pbkdf2_sha256"
    assert user.check_password(GOOD_PASSWORD)
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


@given(st.text(min_size=0, max_size=300))
def test_property_validator_never_crashes_and_accepts_exactly_the_rule(password):
    validator = HkexPasswordPolicyValidator()
    ok = (
        16 <= len(password) <= 256
        and any(c.isdigit() for c in password)
        and any(c.islower() for c in password)
        and any(c.isupper() for c in password)
        and any(c in HKEX_SPECIALS for c in password)
    )
    try:
        validator.validate(password)
    except ValidationError as exc:
        assert not ok and exc.messages
    else:
        assert ok
