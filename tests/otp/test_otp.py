"""E-mail OTP and authenticator-app codes (SECURITY.md 9-15, 31)."""

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db.models import signals
from django.test import Client

from accounts.models import AuditEvent
from otp import services
from otp.models import AuthenticatorDevice, EmailOtpDevice
from otp.tasks import send_email_otp
from tests.concurrency import run_concurrently
from tests.factories import GOOD_PASSWORD, make_user
from tests.logon_helpers import last_email_otp, password_step, post

pytestmark = pytest.mark.django_db


# -- e-mail OTP -------------------------------------------------------------------------


SIGN_IN, AUTHORISATION, STEP_UP = services.Purpose.SIGN_IN, services.Purpose.AUTHORISATION, services.Purpose.STEP_UP


def issue(user, on_commit, purpose=SIGN_IN):
    with on_commit(execute=True):
        return services.request_email_otp(user, purpose=purpose)


def test_sec13_code_is_8_random_digits_stored_hashed(email_user, django_capture_on_commit_callbacks, settings):
    from otp import sealing

    codes = set()
    for n in range(5):
        with time_machine.travel(timedelta(minutes=6 * n)):
            assert issue(email_user, django_capture_on_commit_callbacks).sent
        codes.add(last_email_otp())
    assert len(codes) == 5 and all(len(c) == 8 and c.isdigit() for c in codes)
    code = last_email_otp()
    device = EmailOtpDevice.objects.get(user=email_user, purpose=SIGN_IN)
    # Stored as the project's keyed hash of the code (sealing.digest), which needs the key ...
    assert device.token == sealing.digest(code)
    assert not any(e in device.token for e in _plain_encodings(code.encode()) | {code})
    settings.SECRET_KEY = "another-" + settings.SECRET_KEY
    assert sealing.digest(code) != device.token
    assert device.sealed_token == ""  # ... and after delivery nothing recoverable is kept


def test_sec13_a_code_works_only_for_the_person_it_was_mailed_to_over_http(
    participant, email_user, django_capture_on_commit_callbacks
):
    other = make_user(participant, "B0123404", password=GOOD_PASSWORD, channel="EMAIL")
    mine, theirs = Client(), Client()
    password_step(mine, email_user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
    password_step(theirs, other.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
    my_code, their_code = last_email_otp(email_user.email), last_email_otp(other.email)
    assert mine.post("/login/otp/", {"otp": their_code}).status_code == 400
    assert mine.post("/login/otp/", {"otp": my_code})["Location"] == "/login/success/"
    assert theirs.post("/login/otp/", {"otp": their_code})["Location"] == "/login/success/"


def test_sec13_valid_300_seconds_and_not_one_more(email_user, django_capture_on_commit_callbacks):
    with time_machine.travel("2024-05-02 09:00:00 +0800", tick=False) as traveller:
        issue(email_user, django_capture_on_commit_callbacks)
        code = last_email_otp()
        traveller.shift(timedelta(seconds=299))
        assert services.verify_email_otp(email_user, code, purpose=SIGN_IN)
        issue_again_after = timedelta(seconds=301)
        traveller.shift(issue_again_after)
        issue(email_user, django_capture_on_commit_callbacks)
        code = last_email_otp()
        traveller.shift(timedelta(seconds=300))
        assert not services.verify_email_otp(email_user, code, purpose=SIGN_IN)


def test_sec13_single_use_and_bound_to_the_person_and_purpose(
    participant, email_user, django_capture_on_commit_callbacks
):
    other = make_user(participant, "B0123404", password=GOOD_PASSWORD, channel="EMAIL")
    issue(email_user, django_capture_on_commit_callbacks, purpose=SIGN_IN)
    code = last_email_otp()
    issue(other, django_capture_on_commit_callbacks, purpose=SIGN_IN)
    assert not services.verify_email_otp(other, code, purpose=SIGN_IN)
    assert not services.verify_email_otp(email_user, code, purpose=AUTHORISATION)
    assert not services.verify_email_otp(email_user, code, purpose=STEP_UP)
    assert services.verify_email_otp(email_user, code, purpose=SIGN_IN)
    assert not services.verify_email_otp(email_user, code, purpose=SIGN_IN)


def test_sec14_one_request_per_five_minutes_with_the_time_left(client, email_user, django_capture_on_commit_callbacks):
    with time_machine.travel("2024-05-02 09:00:00 +0800", tick=False) as traveller:
        password_step(client, email_user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
        assert len(mail.outbox) == 1
        traveller.shift(timedelta(seconds=75))
        response = post(client, "/login/otp/", {"action": "request"}, django_capture_on_commit_callbacks)
        page = client.get(response["Location"]).content.decode()
        assert "You can request a new OTP in 3:45" in page
        assert len(mail.outbox) == 1
        traveller.shift(timedelta(seconds=226))
        post(client, "/login/otp/", {"action": "request"}, django_capture_on_commit_callbacks)
        assert len(mail.outbox) == 2


def test_sec13_a_new_code_replaces_the_old(email_user, django_capture_on_commit_callbacks):
    issue(email_user, django_capture_on_commit_callbacks)
    old = last_email_otp()
    with time_machine.travel(timedelta(minutes=6)):
        issue(email_user, django_capture_on_commit_callbacks)
        new = last_email_otp()
        assert not services.verify_email_otp(email_user, old, purpose=SIGN_IN)
        assert services.verify_email_otp(email_user, new, purpose=SIGN_IN)


def test_sec31_task_carries_only_an_id_and_runs_after_commit(email_user, django_capture_on_commit_callbacks):
    from datetime import datetime

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.request_email_otp(email_user, purpose=SIGN_IN)
    assert len(callbacks) == 1 and mail.outbox == []  # nothing is published or sent before the commit
    EmailOtpDevice.objects.filter(user=email_user).update(last_generated_timestamp=None, token=None)
    message = _published_delivery(django_capture_on_commit_callbacks, email_user)  # published for real
    device = EmailOtpDevice.objects.get(user=email_user, purpose=SIGN_IN)
    args, kwargs, _ = message.payload
    assert args == [str(device.challenge_id)] and kwargs == {}
    assert 0 < (datetime.fromisoformat(message.headers["expires"]) - timezone.now()).total_seconds() <= 300
    code = device.delivery_code()
    assert code not in message.body.decode() and email_user.user_id not in message.body.decode()


def test_sec31_task_does_nothing_if_the_code_was_used_replaced_or_expired(
    email_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        services.request_email_otp(email_user, purpose=SIGN_IN)
    device = EmailOtpDevice.objects.get(user=email_user, purpose=SIGN_IN)
    first = device.challenge_id
    # replaced
    with time_machine.travel(timedelta(minutes=6)):
        with django_capture_on_commit_callbacks(execute=False):
            services.request_email_otp(email_user, purpose=SIGN_IN)
        assert send_email_otp.apply(args=[str(first)]).get() == services.DeliveryOutcome.NOTHING_TO_DO
    # expired
    device.refresh_from_db()
    with time_machine.travel(timedelta(minutes=6, seconds=301)):
        assert send_email_otp.apply(args=[str(device.challenge_id)]).get() == services.DeliveryOutcome.NOTHING_TO_DO
    # used (verify needs the code: take it from the sealed copy, as the worker would)
    code = device.delivery_code()
    assert services.verify_email_otp(email_user, code, purpose=SIGN_IN)
    assert send_email_otp.apply(args=[str(device.challenge_id)]).get() == services.DeliveryOutcome.NOTHING_TO_DO
    assert send_email_otp.apply(args=[str(uuid.uuid4())]).get() == services.DeliveryOutcome.NOTHING_TO_DO
    assert mail.outbox == []


def test_sec31_rolled_back_transaction_sends_nothing(email_user, django_capture_on_commit_callbacks):
    from django.db import transaction

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Abort):
            with transaction.atomic():
                services.request_email_otp(email_user, purpose=SIGN_IN)
                raise Abort
    assert callbacks == [] and mail.outbox == []


def test_sec33_smtp_failure_in_process_gives_up_and_frees_the_cooldown(
    email_user, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    from tests.stack import free_port

    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 1
    issue(email_user, django_capture_on_commit_callbacks)
    device = EmailOtpDevice.objects.get(user=email_user, purpose=SIGN_IN)
    assert device.delivery == EmailOtpDevice.Delivery.FAILED
    assert device.last_generated_timestamp is None  # the person may ask again at once


# -- authenticator app ----------------------------------------------------------------


def test_sec10_app_code_works_once_and_a_replay_is_the_ordinary_invalid(client, app_user):
    user, app = app_user
    code = app.code()
    password_step(client, user.user_id, GOOD_PASSWORD)
    assert client.post("/login/otp/", {"otp": code})["Location"] == "/login/success/"
    client.post("/logout/")
    password_step(client, user.user_id, GOOD_PASSWORD)
    response = client.post("/login/otp/", {"otp": code})
    assert response.status_code == 400 and b"Invalid OTP" in response.content
    assert AuditEvent.objects.filter(subject=user, kind="otp_replay").count() == 1


def test_a_checked_code_is_written_to_the_row_and_still_reaches_a_save_receiver(app_user):
    """The check writes last_t in one UPDATE (otp/models.py); a receiver connected for the model is
    still called, through save(), and the code stays used once."""
    user, app = app_user
    code = app.code()
    assert services.verify_app_code(user, code).ok
    row = AuthenticatorDevice.objects.get(user=user)
    assert row.last_t > 0 and row.last_used_at is not None
    saved = []

    def receiver(sender, instance, **kwargs):
        saved.append(kwargs.get("update_fields"))

    signals.post_save.connect(receiver, sender=AuthenticatorDevice)
    try:
        assert services.verify_app_code(user, app.code(1)).ok
    finally:
        signals.post_save.disconnect(receiver, sender=AuthenticatorDevice)
    assert saved and set(saved[0]) == set(AuthenticatorDevice._VERIFY_FIELDS)
    assert not services.verify_app_code(user, code).ok


@pytest.mark.parametrize("offset,accepted", [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_sec10_at_most_one_step_of_tolerance(app_user, offset, accepted):
    user, app = app_user
    assert services.verify_app_code(user, app.code(offset)).ok is accepted


def test_sec11_secret_is_160_bits_from_the_os_csprng(participant, monkeypatch):
    """The secret is the very bytes the OS CSPRNG (os.urandom) returned, not merely "different"."""
    import os

    import django_otp.util

    drawn = []

    def recording_urandom(n):
        value = os.urandom(n)
        drawn.append(value)
        return value

    monkeypatch.setattr(django_otp.util, "urandom", recording_urandom)  # observed, not replaced
    keys = []
    for n in range(3):
        device = AuthenticatorDevice.new_for(make_user(participant, f"B012340{n + 1}"))
        assert len(device.bin_key) == 20 and device.bin_key == drawn[-1]  # the last draw, from new_for
        keys.append(device.bin_key)
    assert len(set(keys)) == 3


def _plain_encodings(secret: bytes) -> set[str]:
    import base64

    encodings = {
        secret.hex(),
        secret.hex().upper(),
        base64.b32encode(secret).decode(),
        base64.b32encode(secret).decode().rstrip("="),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode(),
        base64.b64encode(secret.hex().encode()).decode(),
        base64.urlsafe_b64encode(secret.hex().encode()).decode(),
    }
    return {e.rstrip("=") for e in encodings} | encodings


def test_sec11_secret_encrypted_at_rest_and_opened_only_with_the_key(app_user, settings):
    import base64
    import binascii

    from cryptography.fernet import Fernet, InvalidToken
    from django.db import connection

    from otp import sealing

    user, _ = app_user
    device = AuthenticatorDevice.objects.get(user=user)
    secret = device.bin_key
    with connection.cursor() as cursor:  # the row as the database (and its backups) hold it
        cursor.execute(
            "SELECT a.sealed_key, t.key FROM otp_authenticatordevice a"
            " JOIN otp_totp_totpdevice t ON t.id = a.totpdevice_ptr_id WHERE t.user_id = %s",
            [user.pk],
        )
        [(stored, plain_column)] = cursor.fetchall()
    assert plain_column == ""
    # No plain encoding of the secret anywhere in the stored value, nor in any decoding of it.
    assert not any(e in stored for e in _plain_encodings(secret))
    decodings = [stored.encode()]
    for decode in (base64.urlsafe_b64decode, base64.b64decode, base64.b32decode):
        try:
            decodings.append(decode(stored.encode() + b"=" * (-len(stored) % 8)))
        except (binascii.Error, ValueError):
            pass
    try:
        decodings.append(bytes.fromhex(stored))
    except ValueError:
        pass
    assert all(secret not in d and secret.hex().encode() not in d for d in decodings)
    # It opens with the portal's key, and with no other.
    assert sealing.unseal(stored) == secret.hex().encode()
    settings.PORTAL_OTP_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(InvalidToken):
        sealing.unseal(stored)
    with pytest.raises(InvalidToken):
        _ = AuthenticatorDevice.objects.get(user=user).bin_key


def test_sec12_registration_needs_the_password_step(client, new_user):
    assert client.get("/login/setup/register/")["Location"] == "/login/"
    assert client.post("/login/setup/", {"action": "register"})["Location"] == "/login/"
    assert not AuthenticatorDevice.objects.filter(user=new_user).exists()


def test_full_width_digits_are_read_as_digits(client, app_user):
    user, app = app_user
    full_width = app.code().translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    password_step(client, user.user_id, GOOD_PASSWORD)
    assert client.post("/login/otp/", {"otp": full_width})["Location"] == "/login/success/"


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12 34 5x", "١٢٣٤٥٦", "9" * 5000])
def test_malformed_codes_get_a_message_and_count_nothing_else(client, app_user, bad):
    user, _ = app_user
    password_step(client, user.user_id, GOOD_PASSWORD)
    response = client.post("/login/otp/", {"otp": bad})
    assert response.status_code == 400 and b"field-error" in response.content
    user.refresh_from_db()
    assert user.otp_failures == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sec09_ten_concurrent_uses_of_one_app_code_one_succeeds(postgres, participant):
    from tests.factories import AuthenticatorApp

    user = make_user(participant, "B0123403", password=GOOD_PASSWORD, channel="APP")
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()
    code = AuthenticatorApp(device.base32_key).code()
    results = run_concurrently(10, lambda: services.verify_app_code(user, code).ok)
    assert sorted(results) == [False] * 9 + [True]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sec14_twenty_concurrent_send_otp_requests_queue_one_mail(postgres, participant):
    user = make_user(participant, "B0123402", password=GOOD_PASSWORD, channel="EMAIL")

    def ask():
        client = Client()
        response = password_step(client, user.user_id, GOOD_PASSWORD)
        return response.status_code

    results = run_concurrently(20, ask)
    assert results == [302] * 20
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(subject=user, kind="otp_sent").count() == 1
    assert EmailOtpDevice.objects.filter(user=user).count() == 1


def test_otp_page_shows_both_countdowns_without_javascript(client, email_user, django_capture_on_commit_callbacks):
    with time_machine.travel("2024-05-02 09:00:00 +0800", tick=False) as traveller:
        password_step(client, email_user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
        traveller.shift(timedelta(seconds=75))
        page = client.get("/login/otp/").content.decode()
        assert re.search(r'id="otp-valid">The OTP is valid until 09:05:00\.\s+Time left: <strong[^>]*>3:45<', page)
        assert re.search(
            r'id="otp-next-request">You can request a new OTP at 09:05:00\.\s+Wait: <strong[^>]*>3:45<', page
        )
        assert "js/countdown.js" in page  # the live tick is an enhancement on top
        traveller.shift(timedelta(seconds=226))
        page = client.get("/login/otp/").content.decode()
        assert 'id="otp-valid"' not in page and "You can request a new OTP now." in page


# -- two actors: nobody but the person can spoil the person's code (issue 12, finding 2) ----
# Each test plays the attacker in one client and the victim in another, on PostgreSQL with
# real commits (the delivery task runs on commit, as in production).


def _mailed_codes(to: str) -> list[str]:
    from tests.logon_helpers import OTP_BODY, otp_mails

    return [OTP_BODY.match(m.body.strip()).group(1) for m in otp_mails(to)]


def _first_time_user(participant):
    """A migrated person with a password who has not set up 2FA: /reset/ offers them an e-mail code."""
    return make_user(participant, "B0123401", password=GOOD_PASSWORD)


def _victim_reaches_email_otp(client, victim):
    """The victim's own first-time logon: password, SKIP THIS STEP, ACCEPT -> the e-mail OTP page."""
    assert password_step(client, victim.user_id, GOOD_PASSWORD)["Location"] == "/login/setup/"
    response = client.post("/login/setup/skip/")
    assert response["Location"] == "/login/otp/"
    return response


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_actors_a_strangers_reset_requests_cannot_spoil_the_victims_logon_code(postgres, participant):
    victim = _first_time_user(participant)
    stranger, own = Client(), Client()
    # The stranger knows only the User ID, and asks for reset codes over and over.
    assert stranger.post("/reset/", {"user_id": victim.user_id})["Location"] == "/reset/otp/"
    for _ in range(3):
        stranger.post("/reset/", {"user_id": victim.user_id})
        stranger.post("/reset/otp/", {"action": "request"})
    assert len(_mailed_codes(victim.email)) == 1  # the mailbox is not flooded
    # The victim, in their own browser, logs on with the code in their mailbox.
    _victim_reaches_email_otp(own, victim)
    page = own.get("/login/otp/").content.decode()
    assert "An OTP was sent recently" in page  # nothing new was mailed, and the page says so
    [code] = _mailed_codes(victim.email)
    response = own.post("/login/otp/", {"otp": code})
    assert response["Location"] == "/login/success/", response.content.decode()[:800]
    victim.refresh_from_db()
    assert victim.otp_failures == 0 and victim.logon_failures == []
    assert not AuditEvent.objects.filter(subject=victim, kind__in=["otp_failure", "logon_failure"]).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_actors_a_strangers_reset_cannot_make_the_victims_reset_code_fail(postgres, participant):
    victim = make_user(participant, "B0123401")  # no password yet: /reset/ is their way in
    stranger, own = Client(), Client()
    stranger.post("/reset/", {"user_id": victim.user_id})
    own.post("/reset/", {"user_id": victim.user_id})  # within the 5 minutes: no second mail
    stranger.post("/reset/", {"user_id": victim.user_id})
    [code] = _mailed_codes(victim.email)
    assert own.post("/reset/otp/", {"otp": code})["Location"] == "/reset/password/"
    victim.refresh_from_db()
    assert victim.otp_failures == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_actors_a_fresh_browser_within_five_minutes_uses_the_code_already_mailed(postgres, email_user):
    first, fresh = Client(), Client()
    password_step(first, email_user.user_id, GOOD_PASSWORD)
    [code] = _mailed_codes(email_user.email)
    password_step(fresh, email_user.user_id, GOOD_PASSWORD)  # starts again: no new mail
    assert _mailed_codes(email_user.email) == [code]
    assert fresh.post("/login/otp/", {"otp": code})["Location"] == "/login/success/"
    # The code was used once; the abandoned browser cannot use it again.
    assert first.post("/login/otp/", {"otp": code}).status_code == 400


def _email_checker(roster):
    from accounts.models import OtpChannel, User

    User.objects.filter(pk=roster.checker.pk).update(otp_channel=OtpChannel.EMAIL)
    roster.checker.refresh_from_db()
    return roster.checker


def _pending_request(roster, maker_client):
    from dms.models import ChangeRequest
    from tests.dms.test_views import form_data

    maker_client.post(f"/dms/profiles/{roster.user.user_id}/change/", form_data(roster.user, surname="LEE"))
    return ChangeRequest.objects.get()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_actors_a_makers_authorisation_code_does_not_block_the_checkers_logon(postgres, participant):
    from tests.dms.factories import log_in, make_roster

    roster = make_roster(participant)
    checker = _email_checker(roster)
    maker_client = log_in(Client(), roster.maker, roster.maker_app)
    cr = _pending_request(roster, maker_client)
    sent = maker_client.post(f"/dms/requests/{cr.pk}/", {"action": "send-code", "checker_id": checker.user_id})
    assert sent.status_code == 302
    [authorisation_code] = _mailed_codes(checker.email)
    # The checker logs on in their own browser: their own code is mailed at once, and works.
    own = Client()
    assert password_step(own, checker.user_id, GOOD_PASSWORD, prefix="/dms")["Location"] == "/dms/login/otp/"
    codes = _mailed_codes(checker.email)
    assert len(codes) == 2, "the checker's logon code was not sent"
    assert own.post("/dms/login/otp/", {"otp": authorisation_code}).status_code == 400  # another purpose
    assert own.post("/dms/login/otp/", {"otp": codes[1]})["Location"] == "/dms/login/success/"
    # ... and the maker's Authorisation Code still authorises the request.
    done = maker_client.post(
        f"/dms/requests/{cr.pk}/",
        {
            "action": "confirm",
            "checker_id": checker.user_id,
            "authorisation_code": authorisation_code,
        },
    )
    assert done["Location"] == f"/dms/requests/{cr.pk}/"
    cr.refresh_from_db()
    assert not cr.is_pending


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_actors_the_checkers_logon_does_not_block_the_makers_authorisation_code(postgres, participant):
    from tests.dms.factories import log_in, make_roster

    roster = make_roster(participant)
    checker = _email_checker(roster)
    own = Client()
    password_step(own, checker.user_id, GOOD_PASSWORD, prefix="/dms")
    [logon_code] = _mailed_codes(checker.email)
    maker_client = log_in(Client(), roster.maker, roster.maker_app)
    cr = _pending_request(roster, maker_client)
    sent = maker_client.post(
        f"/dms/requests/{cr.pk}/", {"action": "send-code", "checker_id": checker.user_id}, follow=True
    )
    assert "An Authorisation Code was sent" in sent.content.decode()
    codes = _mailed_codes(checker.email)
    assert len(codes) == 2
    # The maker cannot use the checker's logon code as an Authorisation Code ...
    refused = maker_client.post(
        f"/dms/requests/{cr.pk}/",
        {
            "action": "confirm",
            "checker_id": checker.user_id,
            "authorisation_code": logon_code,
        },
    )
    assert refused.status_code == 400
    # ... and the checker's logon code still works in the checker's own browser.
    assert own.post("/dms/login/otp/", {"otp": logon_code})["Location"] == "/dms/login/success/"


# -- one clock: the demo clock moves e-mail OTP delivery and expiry too (issue 16, item 5) ----


@pytest.fixture
def demo_clock_31_minutes_ahead(settings):
    from ccass_portal import clock
    from demo import demo_clock

    settings.PORTAL_DEMO = True
    clock.forget_demo_offset()
    demo_clock.move_forward("forward_31m")
    yield
    clock.forget_demo_offset()


def _published_delivery(on_commit, user):
    """Request a code and publish its delivery task for real (kombu's in-memory broker,
    not run eagerly); the message as the worker would receive it."""
    from otp.tasks import send_email_otp as task

    app = task.app
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_read() as connection:
            queue = connection.SimpleQueue("celery")
            queue.clear()
            issue(user, on_commit)
            message = queue.get(timeout=2)
            message.ack()
            queue.close()
    finally:
        app.conf.task_always_eager = eager
    return message


def test_one_clock_the_delivery_task_expires_with_the_code_when_the_demo_clock_is_ahead(
    email_user, django_capture_on_commit_callbacks, demo_clock_31_minutes_ahead
):
    from datetime import datetime

    from django.utils import timezone

    message = _published_delivery(django_capture_on_commit_callbacks, email_user)
    expires = datetime.fromisoformat(message.headers["expires"])
    # The queue works in real time: the task lives as long as the code, 300 s from now.
    assert abs((expires - timezone.now()).total_seconds() - 300) < 5, expires
    # ... and the worker, on the demo clock, delivers it.
    assert send_email_otp.apply(args=message.payload[0]).get() == services.DeliveryOutcome.SENT
    code = last_email_otp()
    assert services.verify_email_otp(email_user, code, purpose=SIGN_IN)


def test_one_clock_a_failed_send_is_retried_only_before_the_code_expires_on_the_demo_clock(
    email_user, django_capture_on_commit_callbacks, demo_clock_31_minutes_ahead
):
    with django_capture_on_commit_callbacks(execute=False):
        services.request_email_otp(email_user, purpose=SIGN_IN)
    device = EmailOtpDevice.objects.get(user=email_user, purpose=SIGN_IN)
    with time_machine.travel(timedelta(seconds=290)):
        # 10 s of the code's life left: the next try comes within them, not after a 60 s back-off.
        wait = services.next_delivery_attempt_in(device.challenge_id, backoff=60)
        assert wait is not None and wait <= 10, wait
    with time_machine.travel(timedelta(seconds=301)):
        assert services.next_delivery_attempt_in(device.challenge_id, backoff=60) is None


def test_otp_knows_nothing_of_the_layers_above_it():
    """`otp` sits below `accounts` (issue 16, item 6): it imports neither `accounts` nor `dms`,
    and reaches users only through what every user model has (no accounts-only manager)."""
    import ast
    from pathlib import Path

    import otp

    for path in Path(otp.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in {"accounts", "dms"}, f"{path}: imports {node.module}"
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] not in {"accounts", "dms"} for a in node.names), path
            if isinstance(node, ast.Attribute):
                assert node.attr != "all_objects", f"{path}:{node.lineno} uses accounts' all_objects manager"


# -- the broker really down, in-process ------------------------------------------------------
# The app publishes to a Redis port nothing listens on (not run eagerly): the publish fails as
# it does in production, with no part of our own path replaced.


@pytest.fixture
def broker_down():
    from otp.tasks import send_email_otp as task
    from tests.stack import free_port

    conf = task.app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, f"redis://127.0.0.1:{free_port()}/0"
    yield
    conf.task_always_eager, conf.broker_url = saved


NOT_SENT_NOW = "The OTP could not be sent just now. Please press REQUEST OTP to try again."
HAS_BEEN_SENT = "An OTP has been sent to your registered e-mail address."


def test_sec30_broker_refusal_withdraws_the_code_and_keeps_the_cooldown(
    email_user, django_capture_on_commit_callbacks, broker_down
):
    with pytest.raises(services.DeliveryUnavailable):
        issue(email_user, django_capture_on_commit_callbacks)
    device = EmailOtpDevice.objects.get(user=email_user, purpose=SIGN_IN)
    assert device.token is None and device.last_generated_timestamp is None
    with pytest.raises(services.DeliveryUnavailable):  # cooldown not used up: it really tries again
        issue(email_user, django_capture_on_commit_callbacks)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_otp_page_says_one_true_thing(client, email_user, broker_down):
    """Issue 15, item 6: never "An OTP has been sent" beside "could not be sent just now"."""
    response = password_step(client, email_user.user_id, GOOD_PASSWORD)
    page = client.get(response["Location"]).content.decode()
    assert NOT_SENT_NOW in page and HAS_BEEN_SENT not in page
    response = client.post("/login/otp/", {"action": "request"})
    page = client.get(response["Location"]).content.decode()
    assert NOT_SENT_NOW in page and HAS_BEEN_SENT not in page
    assert mail.outbox == []


def test_with_the_broker_up_the_otp_page_says_the_code_was_sent(client, email_user, django_capture_on_commit_callbacks):
    response = password_step(client, email_user.user_id, GOOD_PASSWORD, on_commit=django_capture_on_commit_callbacks)
    page = client.get(response["Location"]).content.decode()
    assert HAS_BEEN_SENT in page and NOT_SENT_NOW not in page


@pytest.mark.django_db(transaction=True)
def test_broker_down_during_send_authorisation_code(participant, broker_down):
    """Issue 13: the maker is told next to the form, nothing is used up, and the next press works."""
    from accounts.models import OtpChannel, User
    from dms.models import ChangeRequest
    from tests.dms.factories import log_in, make_roster
    from tests.dms.test_views import form_data

    roster = make_roster(participant)
    User.objects.filter(pk=roster.checker.pk).update(otp_channel=OtpChannel.EMAIL)
    maker = log_in(Client(), roster.maker, roster.maker_app)
    maker.post(f"/dms/profiles/{roster.user.user_id}/change/", form_data(roster.user, surname="LEE"))
    cr = ChangeRequest.objects.get()
    down = maker.post(f"/dms/requests/{cr.pk}/", {"action": "send-code", "checker_id": roster.checker.user_id})
    assert down.status_code == 400
    assert "The Authorisation Code could not be sent just now. Please try again." in down.content.decode()
    assert mail.outbox == [] and not AuditEvent.objects.filter(kind="otp_sent").exists()
    device = EmailOtpDevice.objects.get(user=roster.checker, purpose=AUTHORISATION)
    assert device.token is None and device.last_generated_timestamp is None
    cr.refresh_from_db()
    assert cr.is_pending


# -- no queued code lost silently (issue 15, item 2) ------------------------------------------
# A code whose delivery task never reached a worker: the request's on-commit publish is
# not run, as when the broker restarted without its queue. The sweep (beat, every 5 s)
# publishes it again once, or releases it; tests/stack/test_stack_faults.py restarts a real
# Redis with a backlog.

NOT_DELIVERED = "The OTP e-mail could not be delivered. Please press REQUEST OTP to get a new one."


def _lost_code(client, user, on_commit):
    with on_commit(execute=False):
        response = password_step(client, user.user_id, GOOD_PASSWORD)
    assert response["Location"] == "/login/otp/" and mail.outbox == []
    return EmailOtpDevice.objects.get(user=user, purpose=SIGN_IN)


def test_a_lost_code_is_not_swept_before_the_grace_and_then_is_sent_again(
    client, email_user, django_capture_on_commit_callbacks
):
    with time_machine.travel("2024-05-02 09:00:00 +0800", tick=False) as traveller:
        device = _lost_code(client, email_user, django_capture_on_commit_callbacks)
        traveller.shift(timedelta(seconds=9))
        assert services.sweep_lost_email_otps() == {"republished": 0, "released": 0}
        traveller.shift(timedelta(seconds=2))
        assert services.sweep_lost_email_otps() == {"republished": 1, "released": 0}
        device.refresh_from_db()
        assert device.delivery == EmailOtpDevice.Delivery.SENT
        assert client.post("/login/otp/", {"otp": last_email_otp()})["Location"] == "/login/success/"


def test_a_lost_code_that_cannot_be_published_again_is_released_and_the_person_is_told(
    client, email_user, django_capture_on_commit_callbacks, broker_down
):
    with time_machine.travel("2024-05-02 09:00:00 +0800", tick=False) as traveller:
        _lost_code(client, email_user, django_capture_on_commit_callbacks)
        traveller.shift(timedelta(seconds=11))
        assert services.sweep_lost_email_otps() == {"republished": 0, "released": 1}  # the broker is down
        page = client.get("/login/otp/").content.decode()
        assert NOT_DELIVERED in page and HAS_BEEN_SENT not in page
        assert "You can request a new OTP now." in page


def test_a_lost_code_is_sent_again_only_once_then_released(client, email_user, django_capture_on_commit_callbacks):
    with time_machine.travel("2024-05-02 09:00:00 +0800", tick=False) as traveller:
        device = _lost_code(client, email_user, django_capture_on_commit_callbacks)
        traveller.shift(timedelta(seconds=11))
        # The republished task is lost too (its publish runs, but nobody takes it up).
        EmailOtpDevice.objects.filter(pk=device.pk).update(republished=True)
        assert services.sweep_lost_email_otps() == {"republished": 0, "released": 1}
        device.refresh_from_db()
        assert device.delivery == EmailOtpDevice.Delivery.FAILED and device.next_request_at() is None
        assert mail.outbox == []
        post(client, "/login/otp/", {"action": "request"}, django_capture_on_commit_callbacks)
        assert len(mail.outbox) == 1  # REQUEST OTP works at once


def test_a_code_near_its_end_is_released_not_sent_again(client, email_user, django_capture_on_commit_callbacks):
    with time_machine.travel("2024-05-02 09:00:00 +0800", tick=False) as traveller:
        _lost_code(client, email_user, django_capture_on_commit_callbacks)
        traveller.shift(timedelta(seconds=290))
        assert services.sweep_lost_email_otps() == {"republished": 0, "released": 1}
        assert mail.outbox == []


def test_a_retry_waiting_on_the_worker_is_not_taken_for_lost(client, email_user, django_capture_on_commit_callbacks):
    with time_machine.travel("2024-05-02 09:00:00 +0800", tick=False) as traveller:
        device = _lost_code(client, email_user, django_capture_on_commit_callbacks)
        services.expect_delivery_within(device.challenge_id, 60)  # as the task does before a 60 s retry
        traveller.shift(timedelta(seconds=65))
        assert services.sweep_lost_email_otps() == {"republished": 0, "released": 0}
        traveller.shift(timedelta(seconds=6))
        assert services.sweep_lost_email_otps() == {"republished": 1, "released": 0}


def test_the_sweep_runs_on_a_schedule_of_its_own():
    from django.conf import settings

    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "otp.tasks.sweep_lost_email_otps"]
    assert entry["schedule"] <= 5
    from otp import tasks

    assert tasks.sweep_lost_email_otps.name == entry["task"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sec14_twenty_concurrent_request_otp_presses_queue_one_mail_and_tell_the_others_why(postgres, participant):
    """REQUEST OTP pressed at once from 20 sessions of the person: one new mail, one audit row;
    every other press is told a code was sent and how long to wait, and sends nothing."""
    user = make_user(participant, "B0123402", password=GOOD_PASSWORD, channel="EMAIL")
    clients = [Client() for _ in range(20)]
    with time_machine.travel("2024-05-02 09:00:00 +0800", tick=False) as traveller:
        for client in clients:  # the first logon mails a code; the other 19 are inside its 5 minutes
            assert password_step(client, user.user_id, GOOD_PASSWORD)["Location"] == "/login/otp/"
            client.get("/login/otp/")  # the page read, with its messages
        assert len(mail.outbox) == 1
        traveller.shift(timedelta(seconds=301))

        def press(client):
            response = client.post("/login/otp/", {"action": "request"})
            return client.get(response["Location"]).content.decode()

        pages = run_concurrently_each([lambda c=c: press(c) for c in clients])
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(subject=user, kind="otp_sent").count() == 2
    told_to_wait = [p for p in pages if "An OTP was sent recently. You can request a new OTP in 5:00." in p]
    winners = [p for p in pages if "An OTP was sent recently" not in p]
    assert len(winners) == 1 and len(told_to_wait) == 19
    assert all(HAS_BEEN_SENT in p for p in pages)  # each page says, truly, that a code is on its way


def run_concurrently_each(targets: list) -> list:
    """Each target from its own thread at once (tests.concurrency runs one target N times)."""
    import threading

    from django.db import close_old_connections, connection

    barrier = threading.Barrier(len(targets))
    results = []

    def run(target):
        close_old_connections()
        barrier.wait()
        try:
            results.append(target())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
