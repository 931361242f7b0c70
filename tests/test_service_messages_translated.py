"""Messages raised in User ID validation and in services reach the person in their
language (issue 16 item 8): each is gettext with a zh_Hant entry."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts import user_ids
from accounts.models import Participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm(db):
    return Participant.objects.create(
        participant_id="B01234", name="ABC SECURITIES", clearing_house="HKSCC", max_users=0
    )


@pytest.mark.parametrize(
    "value, da, chinese",
    [
        ("B0123", False, "用戶編號由 8 個字母或數字組成，例如 B0123401。"),
        ("C0123401", False, "ABC SECURITIES 的用戶編號以 B01234 開頭。"),
        ("B0123401", True, "授權管理員的用戶編號以 X、Y 或 Z 及一個 1 至 9 的數字結尾，例如 B01234X1。"),
        ("B01234X1", False, "以 X1 至 Z9 結尾的用戶編號保留予授權管理員。"),
        ("B0123400", False, "B0123400 不是有效的用戶編號。"),
    ],
)
def test_user_id_refusals_are_translated(firm, value, da, chinese):
    with translation.override("zh-hant"):  # lazy messages are read in the language in force
        with pytest.raises(ValidationError) as refused:
            user_ids.validate_user_id(value, participant=firm, delegated_administrator=da)
        assert refused.value.messages == [chinese]


def test_a_participant_id_refusal_is_translated():
    with translation.override("zh-hant"):
        with pytest.raises(ValidationError) as refused:
            user_ids.validate_participant_id("BX", clearing_house="HKSCC")
        assert refused.value.messages == ["BX 不是有效的參與者編號：應為一個字母及 5 位數字，例如 B01234。"]


def test_the_quota_message_is_translated_and_one_for_dms_and_the_back_office(firm):
    with translation.override("zh-hant"), pytest.raises(user_ids.QuotaExhausted) as refused:
        user_ids.next_free_user_id(firm)
    assert (
        str(refused.value)
        == "B01234 已沒有剩餘用戶賬戶（用戶數目上限：0）。請向香港交易所申請更多賬戶（電子服務 DA4）。"
    )
    with translation.override("en"):
        assert str(user_ids.quota_exhausted(firm, pending=2)) == (
            "B01234 has no spare user account (MAX. NO. OF USERS: 0, 2 awaiting authorisation). "
            "Ask HKEX for more (eService DA4)."
        )


def test_the_back_office_refusal_of_an_unknown_da_is_translated(firm):
    from dms import backoffice
    from dms.services import DmsRefusal
    from tests.factories import make_user

    operator = make_user(None, "HKEXOP01", is_staff=True)
    with translation.override("zh-hant"), pytest.raises(DmsRefusal) as refused:
        backoffice.act_on_da(operator=operator, participant=firm, user_id="B01234X9", action="ENABLE")
    assert refused.value.message == "B01234 沒有授權管理員 B01234X9。"


def test_the_back_office_refusals_of_a_role_assignment_are_translated(firm):
    from dms import backoffice
    from dms.services import DmsRefusal
    from tests.factories import make_user

    operator = make_user(None, "HKEXOP01", is_staff=True)
    make_user(firm, "B01234X1", role="DA_MAKER")
    with translation.override("zh-hant"):
        with pytest.raises(DmsRefusal) as unknown:
            backoffice.assign_da_role(operator=operator, participant=firm, user_id="B0123499", role="DA_CHECKER")
        with pytest.raises(DmsRefusal) as same:
            backoffice.assign_da_role(operator=operator, participant=firm, user_id="B01234X1", role="DA_MAKER")
    assert unknown.value.message == "B01234 沒有用戶資料 B0123499。"
    assert same.value.message == "B01234X1 已擔任此角色。"


def test_a_request_with_an_unknown_choice_is_refused_in_the_persons_language(firm):
    from dms import rules

    with translation.override("zh-hant"), pytest.raises(rules.DmsRefusal) as refused:
        rules.check_shape({field: "" for field in rules.profiles.PROFILE_FIELDS} | {"status": "GONE"})
    assert refused.value.message.endswith("：不是有效的選項。")
