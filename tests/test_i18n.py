"""English and Traditional Chinese (issue 8, item 1)."""

from pathlib import Path

import polib
import pytest

from tests.factories import GOOD_PASSWORD
from tests.logon_helpers import app_logon

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"

pytestmark = pytest.mark.django_db


def test_every_message_has_a_traditional_chinese_translation():
    po = polib.pofile(str(PO))
    untranslated = [e.msgid for e in po.untranslated_entries()] + [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, untranslated
    for entry in po.translated_entries():
        # placeholders survive translation
        import re

        for placeholder in re.findall(r"%\(\w+\)[sd]", entry.msgid):
            translated = entry.msgstr or "".join(entry.msgstr_plural.values())
            assert placeholder in translated, (entry.msgid, placeholder)


def test_no_message_is_translated_twice():
    """Two entries for one msgid compile to whichever comes last, silently (msgfmt calls it fatal)."""
    po = polib.pofile(str(PO))
    seen: dict[tuple, int] = {}
    for entry in po:
        key = (entry.msgctxt, entry.msgid)
        seen[key] = seen.get(key, 0) + 1
    assert not [key for key, count in seen.items() if count > 1]


def test_language_switch_remembers_the_choice(client):
    assert "User Login" in client.get("/login/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    page = client.get("/login/").content.decode()
    assert "用戶登入" in page and 'lang="zh-Hant"' in page
    assert "用戶登入" in client.get("/login/").content.decode()  # remembered (cookie)
    assert "English" in page  # the switch back is on every page
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "User Login" in client.get("/login/").content.decode()


def test_unknown_language_code_changes_nothing(client):
    response = client.post("/i18n/setlang/", {"language": "xx-evil", "next": "https://evil.example/"})
    assert response.status_code in (302, 204)
    assert response.get("Location", "/").startswith("/")  # never an open redirect
    assert "User Login" in client.get("/login/").content.decode()


def test_errors_and_dates_in_chinese_keep_the_seed_formats(client, app_user):
    user, app = app_user
    client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/"})
    refused = client.post("/login/", {"user_id": user.user_id, "password": "Wrong(Password)12x"}).content.decode()
    assert "登入失敗" in refused
    import time_machine

    with time_machine.travel("2023-04-21 05:41:51 +0000", tick=False):
        app_logon(client, user.user_id, GOOD_PASSWORD, app)
    client.post("/logout/")
    client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/"})
    with time_machine.travel("2023-04-22 02:00:00 +0000", tick=True):
        app_logon(client, user.user_id, GOOD_PASSWORD, app)
        page = client.get("/login/success/").content.decode()
    assert "登入成功" in page and "21-Apr-23 13:41:51" in page
