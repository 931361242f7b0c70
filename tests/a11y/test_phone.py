"""The portal on a phone (issue 8, item 3; issue 20, items 2 and 3): on a 320 px screen, in both
languages, on every page a participant's user, a DA and an HKEX operator can reach (logged on through
the real flow), no page scrolls sideways, wide tables scroll inside a labelled region reachable by
keyboard, the header takes at most two rows, and a DMS page's heading comes before its menu."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.a11y.tour import log_in, people, tour

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 320, "height": 640}

# Per page: how far the page scrolls sideways; tables wider than their box and not inside a labelled,
# focusable region; rows of the top bar (distinct tops of its visible items); the h1's distance from the top.
MEASURE = """() => {
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  const loose = [...document.querySelectorAll('table')].filter(t => {
    const box = t.parentElement;
    const region = t.closest('[role=region][aria-label][tabindex="0"]');
    return t.scrollWidth > box.clientWidth + 1 && !region;
  }).map(t => t.id || t.className);
  const items = [...document.querySelectorAll(
    '.topbar .brand, .topbar .user-id, .userbar > *, .topbar .clock, .language-switch button')].filter(e => e.getClientRects().length && e.offsetWidth > 1);
  const tops = [];
  for (const e of items) {
    const r = e.getBoundingClientRect();
    if (!tops.some(t => Math.abs(t - r.top) < r.height / 2)) tops.push(r.top);
  }
  const h1 = document.querySelector('main h1');
  return {overflow, loose, headerRows: tops.length, h1Top: h1 ? h1.getBoundingClientRect().top + window.scrollY : null};
}"""


def phone_page(browser: Browser, base: str, language: str) -> Page:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    return context.new_page()


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_every_page_fits_a_phone_screen(browser: Browser, live_server, participant, language):
    who = people(participant)
    page = phone_page(browser, live_server.url, language)
    report = {}
    try:
        tour(page, live_server.url, who, lambda label: report.__setitem__(label, page.evaluate(MEASURE)))
    finally:
        page.context.close()
    assert len(report) > 40, sorted(report)
    problems = {
        label: m
        for label, m in report.items()
        if m["overflow"] > 0
        or m["loose"]
        or m["headerRows"] > 2
        # the page's heading on the first screen, not below banners, header and menu
        or m["h1Top"] is None
        or m["h1Top"] > PHONE["height"]
    }
    assert not problems, "\n".join(f"{label}: {m}" for label, m in problems.items())


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_skip_to_content_lands_on_the_dms_page_heading(browser: Browser, live_server, participant, language):
    who = people(participant)
    page = phone_page(browser, live_server.url, language)
    try:
        log_in(page, live_server.url, "/dms", *who.maker)
        page.goto(live_server.url + "/dms/listings/user-profiles/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        heading = page.locator("main h1").bounding_box()
        assert heading and 0 <= heading["y"] < 120, heading  # scrolled to the top of the screen
        page.keyboard.press("Tab")  # the next stop is in the page's content, not the menu
        assert page.evaluate("!!document.activeElement.closest('#dms-page')"), page.evaluate(
            "document.activeElement.outerHTML"
        )
        # the listing's table scrolls inside its own region, which the keyboard reaches
        region = page.locator("#user-profile-listing").locator("xpath=..")
        assert region.get_attribute("role") == "region" and region.get_attribute("tabindex") == "0"
        assert region.get_attribute("aria-label")
    finally:
        page.context.close()


def test_dashboard_column_headers_stay_on_one_line(browser: Browser, live_server, participant):
    """The readiness dashboard's "數目" (Number) header did wrap one character per line at 320 px."""
    who = people(participant)
    page = phone_page(browser, live_server.url, "zh-hant")
    try:
        log_in(page, live_server.url, "/dms", *who.maker)
        page.goto(live_server.url + "/dms/reports/migration-readiness/")
        lines = page.evaluate("""() => [...document.querySelectorAll('.chart-data thead th')].map(th => {
          const range = document.createRange();
          range.selectNodeContents(th);
          return [th.textContent, new Set([...range.getClientRects()].map(r => Math.round(r.top))).size];
        })""")
    finally:
        page.context.close()
    assert ["數目", 1] in lines, lines
    assert all(count == 1 for _, count in lines), lines
