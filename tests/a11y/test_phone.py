"""The portal on a phone (issue 8, item 3: responsive down to a phone): no page scrolls sideways
and the main controls stay on screen at 360 px wide."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from accounts.models import OtpChannel, Role
from tests.conftest import GOOD_PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_pages_fit_a_phone_screen(browser: Browser, live_server, participant, language):
    make_user(participant, "B0123402", password=GOOD_PASSWORD, channel=OtpChannel.EMAIL)
    make_user(participant, "B01234X1", role=Role.DA_MAKER)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    try:
        widths = {}
        for url in ["/", "/dms/", "/login/", "/reset/", "/login/smartcard/", "/sso/", "/demo/outbox/"]:
            page.goto(live_server.url + url)
            widths[url] = overflow(page)
        # the e-mail OTP page with its countdowns and two forms
        page.goto(live_server.url + "/login/")
        page.locator("#id_user_id").fill("B0123402")
        page.locator("#id_password").fill(GOOD_PASSWORD)
        page.locator("button.primary").click()
        page.wait_for_url("**/login/otp/")
        widths["/login/otp/"] = overflow(page)
        submit = page.locator("button.primary").bounding_box()
        assert submit and submit["x"] >= 0 and submit["x"] + submit["width"] <= PHONE["width"]
        assert not {url: px for url, px in widths.items() if px > 0}, widths
    finally:
        context.close()
