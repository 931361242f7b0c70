"""Language marks (issue 20, item 4): on 繁體中文 pages the names and values that stay in English
(Online Functions, ENABLED/DISABLED, INTERNAL/EXTERNAL, Cash/Derivatives, roles) sit inside an element
with lang="en", so a screen reader reads them with an English voice (WCAG SC 3.1.2)."""

from __future__ import annotations

import pytest
from django.utils import translation
from playwright.sync_api import Browser

from accounts.models import Role, User
from terminal.online_functions import ONLINE_FUNCTIONS
from tests.a11y.tour import log_in, people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The English form of each: values now translated (status, roles, ...) must not appear in English, and any
# that still does must be marked (str(): the labels are lazy, and the page is asked in JSON).
with translation.override("en"):
    ENGLISH = [
        str(word)
        for word in [
            *ONLINE_FUNCTIONS,
            *User.Status.labels,
            *User.InternalExternal.labels,
            *Role.labels,
            "Cash",
            "Derivatives",
        ]
    ]

# Text shown on the page that is exactly one of the English names, and the language it is marked with.
UNMARKED = """(words) => {
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (!words.includes(text)) continue;
    const lang = node.parentElement.closest('[lang]').getAttribute('lang');
    if (!lang.startsWith('en')) found.push(`${text} (${lang})`);
  }
  return found;
}"""


def test_english_names_on_chinese_pages_are_marked_english(browser: Browser, live_server, participant):
    who = people(participant)
    context = browser.new_context()
    context.add_cookies([{"name": "django_language", "value": "zh-hant", "url": live_server.url}])
    page = context.new_page()
    seen = {}
    try:
        log_in(page, live_server.url, "", *who.user)
        for url in ["/terminal/", "/terminal/functions/general-enquiries/"]:
            page.goto(live_server.url + url)
            seen[url] = page.evaluate(UNMARKED, ENGLISH)
        assert page.locator("main [lang=en]", has_text="General Enquiries").count()
        page.locator("form.inline button").click()
        log_in(page, live_server.url, "/dms", *who.maker, offset=1)
        for url in [
            "/dms/profiles/create/",
            "/dms/profiles/B0123401/change/",
            "/dms/profiles/B0123401/enquire/",
            "/dms/listings/user-profiles/",
            f"/dms/requests/{who.pending.pk}/",
        ]:
            page.goto(live_server.url + url)
            seen[url] = page.evaluate(UNMARKED, ENGLISH)
        # The user group codes stay English on the 繁體中文 Create page, and are marked so.
        page.goto(live_server.url + "/dms/profiles/create/")
        assert page.locator("#field-user_groups [lang=en]", has_text="AB").count()
    finally:
        context.close()
    assert not {url: found for url, found in seen.items() if found}, seen
