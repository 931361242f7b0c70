"""SECURITY.md 30-33 with the real Redis, real Celery workers (bin/worker) and gunicorn
(bin/web) of the native stack. Each fault test has its own broker (a Redis database of
its own), so its tasks reach only the workers it starts; the accounts are seeded ones
set up with e-mail OTP by tests/stack/conftest.py."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import GOOD_PASSWORD
from tests.native_stack import (
    OTP_HEADING,
    button,
    dead_port,
    enter_otp,
    heading,
    hung_port,
    log_in,
    open_login,
    wait_until,
)

pytestmark = pytest.mark.stack

NOT_SENT = "The OTP could not be sent just now. Please press REQUEST OTP to try again."
NOT_DELIVERED = "The OTP e-mail could not be delivered. Please press REQUEST OTP to get a new one."
COOLDOWN = "You can request a new OTP in"


def account_state(native, user_id: str) -> dict:
    """Everything a logon attempt could change for the person, apart from the e-mail OTP."""
    [person] = native.sql(
        "SELECT locked_at, logon_failures::text, otp_failures, password, last_access_at"
        " FROM accounts_user WHERE user_id = %s",
        [user_id],
    )
    audit = native.sql(
        "SELECT kind, count(*) FROM accounts_auditevent WHERE subject_id = %s GROUP BY kind ORDER BY kind", [user_id]
    )
    return {"person": person, "audit": audit}


def no_code(device: dict) -> bool:
    """No code outstanding and no cooldown running (no device yet also qualifies)."""
    return not device or (
        not device["has_code"]
        and not device["sealed"]
        and device["delivery"] == ""
        and device["last_generated"] is None
    )


def delivery(native, user_id: str) -> str:
    return native.email_otp(user_id).get("delivery", "")


def answer_with(page: Page, button_name: str, message: str) -> None:
    button(page, button_name).click()
    expect(page.get_by_text(message, exact=True)).to_be_visible()


def timed(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


@pytest.mark.browser
@pytest.mark.parametrize("fault", ["refused", "hung"])
def test_sec30_broker_down_answers_within_2s_and_uses_up_nothing(page: Page, native_stack, fault):
    """`refused`: nothing listens at REDIS_URL; `hung`: it accepts and never answers."""
    user_id, email = "HKABC101", "hkabc101@abc-futures.example"
    mails_before = len(native_stack.mails(to=email))
    with hung_port() as hung:
        broker = f"redis://127.0.0.1:{dead_port() if fault == 'refused' else hung}/0"
        # One gunicorn worker: the pages opened before the timed steps are served by the same process.
        down = native_stack.start_web(f"web-broker-{fault}", REDIS_URL=broker, WEB_CONCURRENCY="1")
        try:
            before = account_state(native_stack, user_id)
            open_login(page, down.url)
            page.get_by_label("User ID", exact=True).fill(user_id)
            page.get_by_label("Password", exact=True).fill(GOOD_PASSWORD)
            # From pressing the button to the message on screen: the password step, the
            # failed publish (bounded retries), the redirect and the OTP page.
            log_on = timed(lambda: answer_with(page, "LOG IN", NOT_SENT))
            expect(heading(page, OTP_HEADING)).to_be_visible()
            request_otp = timed(lambda: answer_with(page, "REQUEST OTP", NOT_SENT))
            assert log_on < 2.0 and request_otp < 2.0, (log_on, request_otp)
            assert no_code(native_stack.email_otp(user_id))
            assert account_state(native_stack, user_id) == before  # no audit row, no count, no change
            assert len(native_stack.mails(to=email)) == mails_before
        finally:
            native_stack.stop(down.service)

    # The cooldown was not used up: the same attempt asks again through a web whose broker
    # is up, and the code is sent at once.
    page.goto(f"{native_stack.webs[1].url}/login/otp/")
    button(page, "REQUEST OTP").click()
    expect(page.get_by_text(COOLDOWN)).to_have_count(0)
    enter_otp(page, native_stack.wait_for_otp(email, mails_before + 1))
    expect(heading(page, "Logon Success")).to_be_visible()


SEC31_BROKER_DB = 11
_SEC31 = """
import json, os
import redis
from django.db import transaction
from accounts.models import User
from otp import services
from otp.models import EmailOtpDevice
queue = redis.Redis.from_url(os.environ["REDIS_URL"])
user = User.objects.get(user_id="HKABC102")

class RolledBack(Exception):
    pass

try:
    with transaction.atomic():
        services.request_email_otp(user, purpose="sign_in")
        raise RolledBack
except RolledBack:
    pass
after_rollback = {"queued": queue.llen("celery"), "device": EmailOtpDevice.objects.filter(user=user).exists()}
services.request_email_otp(user, purpose="sign_in")
device = EmailOtpDevice.objects.get(user=user)
code = device.delivery_code()
print(json.dumps({"after_rollback": after_rollback, "challenge": str(device.challenge_id), "code": code,
                  "used": services.verify_email_otp(user, code, purpose="sign_in")}))
"""


def test_sec31_rolled_back_request_publishes_nothing_and_the_task_carries_only_an_id(native_stack):
    broker = native_stack.redis_url(SEC31_BROKER_DB)
    assert native_stack.redis(SEC31_BROKER_DB).llen("celery") == 0
    result = native_stack.shell_json(_SEC31, REDIS_URL=broker)
    assert result["after_rollback"] == {"queued": 0, "device": False}

    # The committed request published one task, carrying the code's id and nothing else.
    [message] = native_stack.queued_messages(SEC31_BROKER_DB)
    args, kwargs, _ = message["body"]
    assert message["headers"]["task"] == "otp.tasks.send_email_otp"
    assert args == [result["challenge"]] and kwargs == {}
    assert message["headers"]["expires"]  # the code's remaining life
    assert result["code"] not in message["raw"] and "HKABC102" not in message["raw"].upper()

    # The code was used before the worker got to it: a real worker sends nothing.
    assert result["used"]
    worker = native_stack.start_worker("worker-sec31", REDIS_URL=broker)
    try:
        native_stack.wait_for_log(worker, r"send_email_otp\[.*\] succeeded.*nothing to do", timeout=15)
    finally:
        native_stack.stop(worker)
    assert native_stack.mails(to="hkabc102@abc-futures.example") == []
    assert native_stack.redis(SEC31_BROKER_DB).llen("celery") == 0


SEC32_BROKER_DB = 12
_ISSUE = """
import json
from accounts.models import User
from otp import services
from otp.models import EmailOtpDevice
user = User.objects.get(user_id={user_id!r})
services.request_email_otp(user, purpose="sign_in")
print(json.dumps(str(EmailOtpDevice.objects.get(user=user).challenge_id)))
"""


def _pool_children(pid: int) -> list[int]:
    """The pids whose parent is `pid` (a Celery worker's prefork pool processes)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def test_sec32_worker_child_killed_mid_send_the_task_is_rejected_and_redelivered_at_once(native_stack):
    """Only the pool process running the task dies (SIGKILL, by its pid); the worker's main
    process stays. With acks_late and reject_on_worker_lost the message goes back to the queue at
    once and the worker's new pool process sends it. The broker's visibility timeout is left at
    its 120 s, so a delivery within 30 s cannot come from it: without reject_on_worker_lost the
    task would be acknowledged as failed and the mail never sent."""
    import os
    import signal

    user_id, email = "HKABC2Z1", "hkabc2z1@abc-options.example"  # used by no other stack test
    slow = native_stack.start_sink(delay=2.0)
    env = {"REDIS_URL": native_stack.redis_url(SEC32_BROKER_DB + 2), "EMAIL_URL": slow.url, "WORKER_CONCURRENCY": "1"}
    worker = native_stack.start_worker("worker-sec32-child", **env)
    try:
        [child] = _pool_children(worker.pid)
        challenge = native_stack.shell_json(_ISSUE.format(user_id=user_id), REDIS_URL=env["REDIS_URL"])
        wait_until(lambda: list(Path(slow.workdir).glob("*.receiving")), 30, lambda: native_stack.tail(worker.name))
        os.kill(child, signal.SIGKILL)  # the pool process only, mid-send: no ack
        native_stack.wait_for_log(worker, r"WorkerLostError|signal 9", timeout=10)
        assert worker.alive()
        wait_until(lambda: delivery(native_stack, user_id) == "SENT", 30, lambda: native_stack.tail(worker.name))
    finally:
        native_stack.stop(worker)
    time.sleep(2.5)  # anything still held by the slow server is stored by now
    mails = native_stack.mails(slow, to=email)
    assert 1 <= len(mails) <= 2, mails
    assert len({m["body"] for m in mails}) == 1  # the same code
    assert challenge and native_stack.email_otp(user_id)["challenge"] == challenge
    native_stack.stop(slow)


def test_whole_worker_killed_mid_send_another_worker_delivers_after_the_visibility_timeout(native_stack):
    user_id, email = "HKABC201", "hkabc201@abc-options.example"
    slow = native_stack.start_sink(delay=2.0)
    env = {
        "REDIS_URL": native_stack.redis_url(SEC32_BROKER_DB),
        "EMAIL_URL": slow.url,
        "PORTAL_CELERY_VISIBILITY_TIMEOUT": "1",  # this stack only: redeliver 1 s after a worker vanished
        "WORKER_CONCURRENCY": "1",
    }
    first = native_stack.start_worker("worker-sec32-first", wait=False, **env)
    challenge = native_stack.shell_json(_ISSUE.format(user_id=user_id), REDIS_URL=env["REDIS_URL"])
    wait_until(lambda: list(Path(slow.workdir).glob("*.receiving")), 30, lambda: native_stack.tail(first.name))
    native_stack.kill(first)  # SIGKILL while the mail server holds the message: no ack
    assert native_stack.email_otp(user_id)["delivery"] == "QUEUED"

    second = native_stack.start_worker("worker-sec32-second", **env)
    try:
        wait_until(lambda: delivery(native_stack, user_id) == "SENT", 30, lambda: native_stack.tail(second.name))
        native_stack.wait_for_log(second, r"send_email_otp\[.*\] succeeded.*'sent'", timeout=5)
    finally:
        native_stack.stop(second)
    time.sleep(2.5)  # anything still held by the slow server is stored by now
    mails = native_stack.mails(slow, to=email)
    assert 1 <= len(mails) <= 2, mails
    assert len({m["body"] for m in mails}) == 1  # the same code
    assert challenge and native_stack.email_otp(user_id)["challenge"] == challenge
    native_stack.stop(slow)


SEC33_BROKER_DB = 13
SEC33_VALIDITY = 10  # this stack only: codes live 10 s, so the retries run out quickly


@pytest.mark.browser
def test_sec33_smtp_down_retries_back_off_stop_at_expiry_and_the_person_is_told(page: Page, native_stack):
    user_id, email = "HKABC202", "hkabc202@abc-options.example"
    env = {
        "REDIS_URL": native_stack.redis_url(SEC33_BROKER_DB),
        "EMAIL_URL": f"smtp://127.0.0.1:{dead_port()}",
        "PORTAL_OTP_EMAIL_VALIDITY": str(SEC33_VALIDITY),
    }
    worker = native_stack.start_worker("worker-sec33", wait=False, **env)
    web = native_stack.start_web("web-sec33", **env)
    try:
        native_stack.wait_for_worker(worker)
        open_login(page, web.url)
        log_in(page, user_id, GOOD_PASSWORD)
        expect(heading(page, OTP_HEADING)).to_be_visible()
        issued = native_stack.email_otp(user_id)
        assert issued["delivery"] == "QUEUED" and issued["last_generated"] is not None

        wait_until(
            lambda: delivery(native_stack, user_id) == "FAILED",
            SEC33_VALIDITY + 10,
            lambda: native_stack.tail(worker.name),
        )
        page.reload()
        expect(page.get_by_text(NOT_DELIVERED, exact=True)).to_be_visible()
        failed = native_stack.email_otp(user_id)
        assert failed["last_generated"] is None and not failed["sealed"]  # the cooldown is released

        log = native_stack.log_path("worker-sec33").read_text()
        # One per retry: a JSON line may say "Retry in Ns" again in its exc_info.
        found = (re.search(r"Retry in (\d+(?:\.\d+)?)s", line) for line in log.splitlines())
        countdowns = [float(m.group(1)) for m in found if m]
        attempts = log.count("otp.email.smtp_failed")
        assert len(countdowns) >= 2 and countdowns[:2] == [2.0, 4.0], countdowns  # exponential back-off
        assert attempts == len(countdowns) + 1
        time.sleep(2)  # and no attempt after giving up
        assert native_stack.log_path("worker-sec33").read_text().count("otp.email.smtp_failed") == attempts
    finally:
        native_stack.stop(web.service)
        native_stack.stop(worker)

    # "Request again": through a web whose mail server is up, at once (no cooldown left).
    page.goto(f"{native_stack.webs[0].url}/login/otp/")
    button(page, "REQUEST OTP").click()
    expect(page.get_by_text(COOLDOWN)).to_have_count(0)
    enter_otp(page, native_stack.wait_for_otp(email))
    expect(heading(page, "Logon Success")).to_be_visible()
    assert len(native_stack.mails(to=email)) == 1  # the new code; the undeliverable one never left


# -- issue 15, item 2: no queued code lost silently when Redis restarts ------------------------

LOST_BACKLOG = 12
_REQUEST_BACKLOG = """
import json
from accounts.models import User
from otp import services
people = User.objects.exclude(email="").order_by("user_id")[:{n}]
asked = [u.user_id for u in people if services.request_email_otp(u, purpose="step_up").sent]
print(json.dumps({{u.user_id: u.email for u in people if u.user_id in asked}}))
"""


def _step_up_deliveries(native, user_ids) -> dict:
    rows = native.sql(
        "SELECT e.user_id, o.delivery, e.last_generated_timestamp IS NULL"
        " FROM otp_emailotpdevice o JOIN otp_email_emaildevice e ON e.id = o.emaildevice_ptr_id"
        " WHERE o.purpose = 'step_up' AND e.user_id = ANY(%s)",
        [list(user_ids)],
    )
    return {user_id: (delivery, released) for user_id, delivery, released in rows}


def _redis_on(port: int):
    """A redis-server on `port`, without persistence (as a broker that restarts empty)."""
    import shutil
    import subprocess
    import tempfile

    from tests import stack

    workdir = tempfile.mkdtemp(prefix="portal-redis-restart-")
    proc = subprocess.Popen(
        [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.wait_for_port(port, proc=proc)
    return stack.Service("redis", proc.pid, port, url=f"redis://127.0.0.1:{port}/0", workdir=workdir, proc=proc)


def test_redis_restarted_with_a_backlog_every_requested_code_is_delivered_or_released(native_stack, tmp_path):
    import redis as redis_client

    from tests import stack

    broker = stack.start_redis()  # a broker of this test's own, which it restarts
    sink = native_stack.start_sink()  # and a mail server of its own: other tests count their mails
    try:
        env = {"REDIS_URL": broker.url, "EMAIL_URL": sink.url}
        # Codes requested while no worker runs: a backlog waiting in Redis.
        asked = native_stack.shell_json(_REQUEST_BACKLOG.format(n=LOST_BACKLOG), **env)
        assert len(asked) == LOST_BACKLOG
        assert redis_client.Redis.from_url(broker.url).llen("celery") == LOST_BACKLOG
        # Redis restarts without its data: the backlog is gone.
        port = broker.port
        broker.stop()
        broker = _redis_on(port)
        assert redis_client.Redis.from_url(broker.url).llen("celery") == 0
        assert {d for d, _ in _step_up_deliveries(native_stack, asked).values()} == {"QUEUED"}

        worker = native_stack.start_worker("worker-lost-backlog", **env)
        beat = native_stack._own(
            stack.run_script(
                "beat",
                native_stack.env(CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"), **env),
                log=str(native_stack.log_path("beat-lost-backlog")),
            )
        )
        try:
            wait_until(
                lambda: all(d in ("SENT", "FAILED") for d, _ in _step_up_deliveries(native_stack, asked).values()),
                60,
                lambda: native_stack.tail("worker-lost-backlog") + native_stack.tail("beat-lost-backlog"),
            )
        finally:
            native_stack.stop(beat)
            native_stack.stop(worker)
        outcome = _step_up_deliveries(native_stack, asked)
        for user_id, email in asked.items():
            delivery, released = outcome[user_id]
            if delivery == "SENT":  # delivered: the mail is in the mailbox
                assert len(native_stack.mails(sink, to=email)) == 1, user_id
            else:  # released: the page says so and a new code may be asked for at once
                assert released, user_id
        # Nothing was left to expire unseen; with the codes' life left, the sweep sent them all.
        assert [d for d, _ in outcome.values()].count("SENT") == LOST_BACKLOG
    finally:
        broker.stop()
        native_stack.stop(sink)
