"""The locked message (issue 12, finding 5; SPEC "Lockout", seeds 4.1.2 / 4.2.2), without an oracle.

A stranger who knows only User IDs plays beside the person: from the next attempt after
a lock the message says so, and an ID that names nobody behaves the same way.
"""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from accounts.logon import GENERIC_FAILURE, LOCKED_MESSAGE
from accounts.models import KeyedAttempts
from tests.factories import GOOD_PASSWORD, make_user
from tests.logon_helpers import comparable_page, password_step

pytestmark = pytest.mark.django_db

WRONG = "Wrong(Password)123x"


def answer(user_id, password):
    response = password_step(Client(), user_id, password)  # a new browser each time
    html = response.content.decode()
    return (
        response.status_code,
        comparable_page(html, user_id),
        str(LOCKED_MESSAGE) in html,
        str(GENERIC_FAILURE) in html,
    )


def test_a_locked_person_is_told_from_the_next_attempt_whatever_the_password(app_user):
    user, _ = app_user
    before = [answer(user.user_id, WRONG) for _ in range(5)]  # the fifth locks
    assert all(status == 200 and generic and not locked for status, _, locked, generic in before)
    user.refresh_from_db()
    assert user.is_locked
    right, wrong = answer(user.user_id, GOOD_PASSWORD), answer(user.user_id, WRONG)
    assert right == wrong and right[2] and not right[3]


def test_an_id_that_names_nobody_is_counted_and_locked_the_same_way(participant, app_user):
    user, _ = app_user
    unknown = "B0123499"
    known_pages = [answer(user.user_id, WRONG)[:3] for _ in range(6)] + [answer(user.user_id, GOOD_PASSWORD)[:3]]
    unknown_pages = [answer(unknown, WRONG)[:3] for _ in range(6)] + [answer(unknown, GOOD_PASSWORD)[:3]]
    assert known_pages == unknown_pages
    assert [locked for _, _, locked in unknown_pages] == [False] * 5 + [True, True]
    # Only a keyed hash of the typed ID is kept, never the ID.
    assert not KeyedAttempts.objects.filter(key__icontains=unknown).exists()
    # Typed in another case and with blanks, it is the same ID.
    assert answer(" b0123499 ", WRONG)[2]


def test_failures_older_than_the_window_do_not_lock_a_known_or_an_unknown_id(app_user):
    user, _ = app_user
    pages = {}
    for user_id in (user.user_id, "B0123498"):
        with time_machine.travel("2025-03-03 09:00 +0800", tick=False) as traveller:
            for _ in range(4):
                answer(user_id, WRONG)
            traveller.shift(timedelta(minutes=30, seconds=1))
            answer(user_id, WRONG)  # the first four have left the window
            pages[user_id] = answer(user_id, WRONG)[:3]
    assert pages[user.user_id] == pages["B0123498"]
    assert not pages["B0123498"][2]
    user.refresh_from_db()
    assert not user.is_locked


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_of_an_unknown_id_are_counted_like_a_person_s(postgres, participant):
    """Twenty wrong passwords at once for a person and for an ID that names nobody: both locked,
    none answered with an error, and the next attempt says "locked" for both."""
    from tests.concurrency import run_concurrently

    make_user(participant, "B0123403", password=GOOD_PASSWORD)
    for user_id in ("B0123403", "B0123497"):
        statuses = run_concurrently(20, lambda uid=user_id: password_step(Client(), uid, WRONG).status_code)
        assert statuses == [200] * 20
    assert answer("B0123403", GOOD_PASSWORD)[1:3] == answer("B0123497", GOOD_PASSWORD)[1:3]
    assert answer("B0123497", GOOD_PASSWORD)[2]
    [row] = KeyedAttempts.objects.filter(locked_at__isnull=False)
    assert row.times == []
