"""A database outage (issue 15, item 5; docs/operations.md, "Database outage").

While PostgreSQL cannot be reached, every page that needs it answers the portal's localised "the
service is busy" page with 503 and Retry-After, never Django's bare English "Server Error (500)".
And no logon is left half done: the use of an OTP and the completion of the logon commit together,
so a logon that fails part-way leaves the code usable, and the person finishes with the same code.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from tests.factories import GOOD_PASSWORD
from tests.logon_helpers import is_logged_in, last_email_otp, password_step, strong_login
from tests.native_stack import dead_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

BUSY_EN = "The service is busy. Please try again in a minute."
BUSY_ZH = "服務繁忙。請於一分鐘後再試。"


@contextmanager
def database_down():
    """The real thing for a web process: its next connection to PostgreSQL is refused."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(dead_port()))
    try:
        yield
    finally:
        connection.settings_dict.update(HOST=saved["HOST"], PORT=saved["PORT"])
        connection.close()


def assert_busy(response, words=BUSY_EN):
    assert response.status_code == 503, response.status_code
    assert response["Retry-After"] == "60"
    assert b'data-error-page="503"' in response.content
    assert words in response.content.decode()


def test_an_outage_answers_the_busy_page_in_the_persons_language_then_the_logon_goes_on(postgres, app_user):
    user, app = app_user
    person = Client(raise_request_exception=False)
    assert password_step(person, user.user_id, GOOD_PASSWORD)["Location"] == "/login/otp/"
    stranger = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-Hant")

    with database_down():
        # Pages without a session need no database; the health check reports the outage.
        assert stranger.get("/").status_code == 200
        assert stranger.get("/login/").status_code == 200
        assert stranger.get("/sso/").status_code == 503
        assert_busy(stranger.post("/login/", {"user_id": user.user_id, "password": GOOD_PASSWORD}), BUSY_ZH)
        # A person with a session reaches the database at once: the busy page, in her language.
        for path in ("/login/", "/login/otp/", "/terminal/", "/dms/login/", "/reset/"):
            assert_busy(person.get(path, HTTP_ACCEPT_LANGUAGE="zh-Hant"), BUSY_ZH)
        assert_busy(person.post("/login/otp/", {"otp": app.code()}))
        # The portal's own 404 needs no database.
        assert stranger.get("/no-such-page/").status_code == 404

    # The database is back: the logon started before the outage goes on where it was.
    response = person.post("/login/otp/", {"otp": app.code()})
    assert response.status_code == 302 and response["Location"] == "/login/success/"
    assert is_logged_in(person)


@contextmanager
def connection_dropped_on(table: str, event: str, when: str = "true"):
    """PostgreSQL ends the web process's connection at the moment a row of `table` is written."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION drop_connection() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_terminate_backend(pg_backend_pid());
                RAISE EXCEPTION 'the connection should be gone by now';
            END $$;
            """
        )
        cursor.execute(
            f"CREATE TRIGGER drop_connection BEFORE {event} ON {table} FOR EACH ROW "
            f"WHEN ({when}) EXECUTE FUNCTION drop_connection()"
        )
    try:
        yield
    finally:
        connection.close()  # the dropped one, if still held
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER drop_connection ON {table}; DROP FUNCTION drop_connection()")


def connection_dropped_when(kind: str):
    """... when an audit row of `kind` is written: the logon's last statement, after the code was checked."""
    return connection_dropped_on("accounts_auditevent", "INSERT", f"NEW.kind = '{kind}'")


def account(user):
    user.refresh_from_db()
    return user.last_access_at, user.otp_failures, AuditEvent.objects.filter(subject=user, kind="logon_success").count()


def test_a_logon_that_fails_part_way_leaves_the_app_code_usable(postgres, app_user):
    user, app = app_user
    person = Client(raise_request_exception=False)
    assert password_step(person, user.user_id, GOOD_PASSWORD)["Location"] == "/login/otp/"
    before = account(user)
    code = app.code()

    with connection_dropped_when("logon_success"):
        assert_busy(person.post("/login/otp/", {"otp": code}))
    assert account(user) == before  # nothing of the logon was kept ...

    # ... and the same code completes it: no wait for the app's next code.
    response = person.post("/login/otp/", {"otp": code})
    assert response.status_code == 302 and response["Location"] == "/login/success/"
    assert is_logged_in(person)


def test_a_logon_that_fails_part_way_leaves_the_email_code_usable(postgres, email_user):
    person = Client(raise_request_exception=False)
    assert password_step(person, email_user.user_id, GOOD_PASSWORD)["Location"] == "/login/otp/"
    code = last_email_otp(email_user.email)
    before = account(email_user)

    with connection_dropped_when("logon_success"):
        assert_busy(person.post("/login/otp/", {"otp": code}))
    assert account(email_user) == before

    response = person.post("/login/otp/", {"otp": code})
    assert response.status_code == 302 and response["Location"] == "/login/success/"
    assert is_logged_in(person)


def test_an_outage_while_the_session_is_saved_is_the_busy_page_and_the_session_lives_on(postgres, app_user):
    """The session row is written after the view, when the response is saved: a failure there is
    the outage it is, not "the session was deleted" (Django's 400 for a session gone meanwhile)."""
    from otp.models import AuthenticatorDevice

    user, _ = app_user
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        person = strong_login(Client(raise_request_exception=False), user, AuthenticatorDevice.objects.get(user=user))
    # Later than the idle check's resolution, so the next page writes the session (seen_at).
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        with connection_dropped_on("django_session", "UPDATE"):
            assert_busy(person.get("/terminal/"))
        assert is_logged_in(person)


def test_the_health_check_reports_an_outage_and_recovers_by_itself(postgres):
    """/sso/ asks PostgreSQL over the worker's kept connection, in one round trip (issue 19). A kept
    connection the server dropped (a restart, a failover) is replaced within the same check, and
    an outage is reported until the server answers again."""
    import psycopg

    checker = Client(raise_request_exception=False)
    assert checker.get("/sso/").status_code == 200
    kept = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"], autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [kept])
    assert checker.get("/sso/").status_code == 200  # a new connection, in the same check
    assert connection.connection.info.backend_pid != kept
    with database_down():
        assert checker.get("/sso/").status_code == 503
        assert checker.get("/sso/").status_code == 503
    assert checker.get("/sso/").status_code == 200
