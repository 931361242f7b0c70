"""Issue 17's "Finish" items that only a browser can measure: the register-device card as wide
as the other cards, and DMS "Create User Profile - Detail" with its user groups in a compact grid."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from tests.factories import GOOD_PASSWORD, make_person, make_user

from .steps import button, enter_app_code, fill_login, heading, link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_device_card_is_as_narrow_as_the_others(page: Page, participant):
    make_user(participant, "B0123407", password=GOOD_PASSWORD)
    page.goto("/login/?service=online")
    login_width = page.locator("section.card").bounding_box()["width"]
    fill_login(page, "B0123407", GOOD_PASSWORD)
    button(page, "REGISTER DEVICE").click()
    expect(heading(page, "ForgeRock Authenticator (OATH)")).to_be_visible()
    card = page.locator("section.card").bounding_box()["width"]
    otp = page.get_by_label("Enter OTP", exact=True).bounding_box()["width"]
    assert card <= 520 and abs(card - login_width) < 2, (card, login_width)
    assert otp < card


def test_create_user_profile_groups_in_a_compact_grid_with_one_date_hint(page: Page, participant):
    maker, app = make_person(participant, "B01234X1", role=Role.DA_MAKER)
    for user_id in ("B01234Y1", "B01234Z1"):
        make_person(participant, user_id, role=Role.DA_CHECKER)
    page.goto("/dms/login/")
    fill_login(page, maker.user_id, GOOD_PASSWORD)
    enter_app_code(page, app.code())
    link(page, "Continue").click()
    page.locator("#dms-menu").get_by_role("link", name="Create User Profile", exact=True).click()
    expect(heading(page, "Create User Profile - Detail")).to_be_visible()
    groups = page.get_by_role("group", name="Selected User Groups")
    expect(groups.get_by_role("checkbox", name="AB", exact=True)).to_be_visible()  # each one labelled
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2200, height
    for field in ("Enable From", "Disable After"):
        box = page.get_by_label(field, exact=True)
        assert box.get_attribute("placeholder") is None
        expect(box).to_have_accessible_description("DD/MM/YY")
