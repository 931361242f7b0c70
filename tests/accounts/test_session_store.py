"""accounts.sessions: Django's database sessions in fewer statements, with the same guarantees
(SECURITY.md 16: a rotated key is dead at once; nothing is lost or left behind)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connections, transaction
from django.utils import timezone

from accounts import sessions
from accounts.sessions import SessionStore
from tests.factories import GOOD_PASSWORD
from tests.logon_helpers import password_step

# Without the test-case transaction: statements are counted as they run in production (autocommit).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]  # PostgreSQL and SQLite


def saved(data: dict) -> SessionStore:
    store = SessionStore()
    store.update(data)
    store.save()
    return store


def run_async(method, *args):
    """Await `method` on a loop of its own thread (Playwright may hold a running loop in this one),
    then close the database connection its sync_to_async thread opened."""

    async def run():
        try:
            return await method(*args)
        finally:
            await sync_to_async(connections.close_all)()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def keys() -> set[str]:
    return set(Session.objects.values_list("session_key", flat=True))


def test_a_new_session_is_one_insert(django_assert_num_queries):
    store = SessionStore()
    store["a"] = 1
    with django_assert_num_queries(1):
        store.save()
    assert SessionStore(store.session_key).load() == {"a": 1}


def test_a_session_is_read_in_one_statement_of_its_data_alone_and_an_expired_one_is_none(django_assert_num_queries):
    """Read on every request, the row is asked for its data only, on the cursor (issue 19): what the
    ORM built for it cost three times the round trip. An expired row is no session, as in Django."""
    store = saved({"a": 1})
    with django_assert_num_queries(1) as queries:
        assert SessionStore(store.session_key).load() == {"a": 1}
    (query,) = queries.captured_queries
    assert query["sql"].startswith('SELECT session_data FROM "django_session" WHERE session_key =')
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now())
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None


def test_an_update_is_one_statement_and_a_vanished_row_is_reported(django_assert_num_queries):
    store = saved({"a": 1})
    again = SessionStore(store.session_key)
    again["b"] = 2
    with django_assert_num_queries(1):
        again.save()
    assert SessionStore(store.session_key).load() == {"a": 1, "b": 2}
    Session.objects.all().delete()  # e.g. logged out in another tab meanwhile
    again["c"] = 3
    with pytest.raises(UpdateError):
        again.save()
    assert keys() == set()  # not silently recreated


def test_cycle_key_writes_the_data_under_the_new_key_and_kills_the_old_one(django_assert_num_queries):
    store = saved({"user": "B0000101"})
    old = store.session_key
    live = SessionStore(old)
    live.load()
    live.cycle_key()
    new = live.session_key
    assert new != old and keys() == {old}  # nothing written before the response is saved
    live["step"] = "otp"
    with django_assert_num_queries(1):  # the old row renamed: UPDATE ... SET session_key = new (issue 19)
        live.save()
    assert keys() == {new}
    assert SessionStore(new).load() == {"user": "B0000101", "step": "otp"}
    assert SessionStore(old).load() == {}  # the old cookie is worth nothing


def test_a_rotation_whose_old_row_is_gone_writes_the_new_one():
    """Logged out in another tab (or the sessions ended by a DA) meanwhile: the rename finds no row,
    so the new key is written afresh, as Django's cycle_key would; the old key stays dead."""
    store = saved({"a": 1})
    old = store.session_key
    live = SessionStore(old)
    live.load()
    live.cycle_key()
    Session.objects.all().delete()
    live.save()
    assert keys() == {live.session_key} and live.session_key != old
    assert SessionStore(live.session_key).load() == {"a": 1}


def test_a_rotation_onto_a_taken_key_is_retried_and_overwrites_nobody(monkeypatch):
    taken = saved({"someone": "else"}).session_key
    mine = saved({"mine": 1}).session_key
    draws = iter([taken, "h" * 32])
    monkeypatch.setattr(sessions, "get_random_string", lambda *args: next(draws))
    live = SessionStore(mine)
    live.load()
    with transaction.atomic():  # a failed rename must not spoil an outer transaction either
        live.cycle_key()
        live.save()
        assert Session.objects.filter(session_key="h" * 32).exists()
    assert SessionStore(taken).load() == {"someone": "else"}
    assert SessionStore("h" * 32).load() == {"mine": 1}
    assert keys() == {taken, "h" * 32}  # the old key is dead


def test_the_async_api_keeps_the_same_bookkeeping():
    store = saved({"a": 1})
    old = store.session_key
    live = SessionStore(old)
    live.cycle_key()
    run_async(live.asave)  # a key cycled by the sync API, written by the async one
    assert keys() == {live.session_key} != {old}
    run_async(live.acycle_key)
    live.save()
    run_async(live.adelete)
    assert keys() == set()


def test_two_rotations_in_one_request_leave_one_row():
    store = saved({"a": 1})
    old = store.session_key
    live = SessionStore(old)
    live.cycle_key()
    middle = live.session_key
    live.cycle_key()
    live.save()
    assert middle != live.session_key and keys() == {live.session_key}


def test_flush_after_a_rotation_deletes_the_old_row_too():
    store = saved({"a": 1})
    live = SessionStore(store.session_key)
    live.cycle_key()
    live.flush()
    assert keys() == set() and live.session_key is None


def test_a_key_collision_is_retried_with_another_key(monkeypatch):
    taken = saved({"someone": "else"}).session_key
    fresh = "f" * 32
    draws = iter([taken, fresh])
    monkeypatch.setattr(sessions, "get_random_string", lambda *args: next(draws))
    store = SessionStore()
    store["mine"] = 1
    store.save()
    assert store.session_key == fresh
    assert SessionStore(taken).load() == {"someone": "else"}  # not overwritten
    assert SessionStore(fresh).load() == {"mine": 1}


def test_a_collision_inside_an_outer_transaction_does_not_spoil_it(monkeypatch):
    taken = saved({"someone": "else"}).session_key
    draws = iter([taken, "g" * 32])
    monkeypatch.setattr(sessions, "get_random_string", lambda *args: next(draws))
    with transaction.atomic():
        store = SessionStore()
        store["mine"] = 1
        store.save()
        assert Session.objects.filter(session_key="g" * 32).exists()  # the transaction is still usable


def test_the_logon_rotation_leaves_only_the_new_session(client, app_user):
    user, app = app_user
    client.get("/login/")
    password_step(client, user.user_id, GOOD_PASSWORD)
    between = client.session.session_key
    assert keys() == {between}
    client.post("/login/otp/", {"otp": app.code()})
    after = client.session.session_key
    assert after != between and keys() == {after}
    client.cookies["sessionid"] = between  # replaying the half-logged-in cookie
    assert client.get("/login/otp/").status_code == 302
