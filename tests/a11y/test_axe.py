"""axe-core on every page, in English and Traditional Chinese, on a 320 px phone and a 1280 px desktop:
no violation of any impact under the WCAG 2.2 AA tags plus best practice (issue 8, item 2; issue 20).

Lighthouse's accessibility score is computed from axe-core's own rules (the same engine, a subset of
these tags), so no violation here means Lighthouse finds none of its accessibility audits failing:
see docs/security.md, "Accessibility on phones and screen readers". axe-core comes from npm
(package.json, `npm ci` in `make test`) and is injected into Debian's Chromium by Playwright."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.a11y.tour import people, tour

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
VIEWPORTS = {"phone": {"width": 320, "height": 640}, "desktop": {"width": 1280, "height": 800}}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: tags}})",
        TAGS,
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_every_page_has_no_accessibility_violation(browser: Browser, live_server, participant, language, viewport):
    assert AXE.exists(), "run `npm ci` (make test does)"
    who = people(participant)
    phone = viewport == "phone"
    context = browser.new_context(viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone, bypass_csp=True)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    report = {}
    try:
        page = context.new_page()
        tour(page, live_server.url, who, lambda label: report.__setitem__(label, axe_violations(page)))
    finally:
        context.close()
    assert len(report) > 40, sorted(report)
    failures = {label: found for label, found in report.items() if found}
    assert not failures, "\n".join(
        f"{label}: {json.dumps(found, ensure_ascii=False)}" for label, found in failures.items()
    )
