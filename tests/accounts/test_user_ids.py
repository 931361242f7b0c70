"""User ID formats (§3.2) and "Generate User ID" (§4.3.1)."""

import string

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import user_ids
from accounts.models import Participant, Role, User
from tests.factories import make_user


def p(pid, house="HKSCC", bank=False, code="", max_users=10, name="FIRM"):
    return Participant(
        participant_id=pid,
        name=name,
        clearing_house=house,
        is_designated_bank=bank,
        customer_code=code,
        max_users=max_users,
    )


# Every example of the Information Package's table, valid as written.
SEED_EXAMPLES = [
    (p("B01234"), "B0123401", False),
    (p("BNK999", bank=True), "BNK99901", False),
    (p("HKABC1", "HKCC", code="ABC"), "HKABC101", False),
    (p("HKABC2", "SEOCH", code="ABC"), "HKABC201", False),
    (p("B01234"), "B01234X1", True),
    (p("BNK999", bank=True), "BNK999X1", True),
    (p("HKABC1", "HKCC", code="ABC"), "HKABC1X1", True),
    (p("HKABC2", "SEOCH", code="ABC"), "HKABC2X1", True),
]


@pytest.mark.parametrize("participant,user_id,is_da", SEED_EXAMPLES)
def test_seed_examples_are_valid(participant, user_id, is_da):
    user_ids.validate_user_id(user_id, participant=participant, delegated_administrator=is_da)
    assert user_ids.is_da_user_id(user_id) is is_da


@pytest.mark.parametrize(
    "participant,user_id,is_da,code",
    [
        (p("B01234"), "B0123401X", False, "invalid_user_id"),  # 9 characters
        (p("B01234"), "B012340", False, "invalid_user_id"),  # 7 characters
        (p("B01234"), "B01234-1", False, "invalid_user_id"),  # not alphanumeric
        (p("B01234"), "B0567801", False, "wrong_participant"),  # another firm
        (p("B01234"), "B01234X1", False, "reserved_da_suffix"),  # a DA's shape for a user
        (p("B01234"), "B0123401", True, "invalid_da_suffix"),  # a user's shape for a DA
        (p("B01234"), "B01234W1", True, "invalid_da_suffix"),  # W is not X/Y/Z
        (p("B01234"), "B01234X0", True, "invalid_da_suffix"),  # 0 is not 1-9
        (p("HKABC1", "HKCC", code="ABC"), "HKABC201", False, "wrong_participant"),  # SEOCH digit for HKCC firm
        (p("HKABC2", "SEOCH", code="ABC"), "HKABCX21", True, "wrong_participant"),  # the row's words, not its example
    ],
)
def test_bad_user_ids_get_a_clear_message(participant, user_id, is_da, code):
    with pytest.raises(ValidationError) as excinfo:
        user_ids.validate_user_id(user_id, participant=participant, delegated_administrator=is_da)
    assert excinfo.value.code == code
    assert excinfo.value.messages[0]  # a sentence a person can read


@pytest.mark.parametrize(
    "pid,house,bank,ok",
    [
        ("B01234", "HKSCC", False, True),
        ("BNK999", "HKSCC", True, True),
        ("HKABC1", "HKCC", False, True),
        ("HKABC2", "SEOCH", False, True),
        ("BNK999", "HKSCC", False, False),  # DB shape for a CP
        ("B01234", "HKSCC", True, False),  # CP shape for a DB
        ("HKABC5", "HKCC", False, False),  # digit outside 1-4
        ("ABC1", "SEOCH", False, False),
    ],
)
def test_participant_id_formats(pid, house, bank, ok):
    if ok:
        user_ids.validate_participant_id(pid, clearing_house=house, is_designated_bank=bank)
    else:
        with pytest.raises(ValidationError):
            user_ids.validate_participant_id(pid, clearing_house=house, is_designated_bank=bank)


PARTICIPANTS = [p("B01234"), p("BNK999", bank=True), p("HKABC1", "HKCC", code="ABC"), p("HKABC2", "SEOCH", code="ABC")]
ALNUM = string.ascii_uppercase + string.digits


@given(participant=st.sampled_from(PARTICIPANTS), suffix=st.text(ALNUM, min_size=2, max_size=2))
def test_property_every_suffix_is_exactly_one_of_user_or_da(participant, suffix):
    user_id = participant.participant_id + suffix
    outcomes = []
    for is_da in (False, True):
        try:
            user_ids.validate_user_id(user_id, participant=participant, delegated_administrator=is_da)
            outcomes.append(is_da)
        except ValidationError:
            pass
    if suffix == "00":
        assert outcomes == []
    else:
        assert outcomes == [user_ids.is_da_user_id(user_id)]


@given(value=st.text(max_size=20))
def test_property_arbitrary_text_never_crashes_and_only_8_alnum_pass(value):
    for participant in PARTICIPANTS:
        try:
            user_ids.validate_user_id(value, participant=participant, delegated_administrator=False)
        except ValidationError as exc:
            assert exc.messages
        else:
            assert len(value) == 8 and value.isalnum() and value.startswith(participant.participant_id)


@given(value=st.text(alphabet=" \t" + string.ascii_letters + string.digits, max_size=12))
def test_property_normalising_is_idempotent_and_case_blind(value):
    once = user_ids.normalise_user_id(value)
    assert user_ids.normalise_user_id(once) == once
    assert once == value.strip().upper()


def test_suffix_order_starts_at_01_and_never_proposes_da_shapes():
    assert user_ids.USER_SUFFIXES[:3] == ("01", "02", "03")
    assert not any(user_ids.DA_SUFFIX.fullmatch(s) for s in user_ids.USER_SUFFIXES)
    assert user_ids.DA_SUFFIXES[0] == "X1" and len(user_ids.DA_SUFFIXES) == 27


@pytest.mark.django_db
def test_generate_user_id_proposes_next_free_and_skips_deleted(participant):
    make_user(participant, "B0123401")
    make_user(participant, "B0123403")
    assert user_ids.next_free_user_id(participant) == "B0123402"
    make_user(participant, "B0123402")
    gone = User.objects.get(pk="B0123402")
    from ccass_portal import clock

    gone.deleted_at = clock.now()
    gone.save()
    # A deleted profile frees its account but its ID is never issued again.
    assert user_ids.next_free_user_id(participant) == "B0123404"
    assert user_ids.next_free_user_id(participant, delegated_administrator=True) == "B01234X1"


@pytest.mark.django_db
def test_generate_user_id_refuses_at_quota(participant):
    participant.max_users = 3
    participant.save()
    make_user(participant, "B0123401")
    make_user(participant, "B01234X1", role=Role.DA_MAKER)  # DAs use accounts too
    assert user_ids.next_free_user_id(participant) == "B0123402"
    make_user(participant, "B0123402")
    with pytest.raises(user_ids.QuotaExhausted, match="no spare user account"):
        user_ids.next_free_user_id(participant)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None)
@given(taken=st.sets(st.sampled_from(user_ids.USER_SUFFIXES[:40]), max_size=15), quota=st.integers(0, 20))
def test_property_generated_id_is_valid_free_and_within_quota(taken, quota):
    User.all_objects.all().delete()
    Participant.objects.all().delete()
    participant = Participant.objects.create(
        participant_id="B01234", name="ABC", clearing_house="HKSCC", max_users=quota
    )
    for suffix in taken:
        make_user(participant, "B01234" + suffix)
    if len(taken) >= quota:
        with pytest.raises(user_ids.QuotaExhausted):
            user_ids.next_free_user_id(participant)
        return
    proposed = user_ids.next_free_user_id(participant)
    user_ids.validate_user_id(proposed, participant=participant, delegated_administrator=False)
    assert proposed[6:] not in taken
    # the first free one in the documented order
    assert proposed[6:] == next(s for s in user_ids.USER_SUFFIXES if s not in taken)
