"""Self-service reset answers alike until a factor is proved, and is limited
(issue 12, finding 6; SECURITY.md 8, 20; docs/decisions.md "Self-service reset answers alike").

A stranger who knows only User IDs probes IDs of every kind; every answer they can see
(status, redirect, page apart from the CSRF token, what REQUEST OTP and a wrong code say)
is the same, while the real people can still reset.
"""

import pytest
from django.core import mail
from django.test import Client

from accounts.logon import LOCKED_MESSAGE
from accounts.models import OtpChannel, User
from accounts.reset import TOO_MANY_REQUESTS
from ccass_portal import clock
from otp.models import AuthenticatorDevice
from otp.tasks import send_email_otp
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD, make_user
from tests.logon_helpers import comparable_page, last_email_otp, post

pytestmark = pytest.mark.django_db


def _app(user):
    device = AuthenticatorDevice.new_for(user)
    device.confirmed = True
    device.save()


@pytest.fixture
def people(participant, app_user, new_user, email_user):
    locked = make_user(participant, "B0123404", password=GOOD_PASSWORD, channel=OtpChannel.APP, locked_at=clock.now())
    _app(locked)
    return {
        "app user": app_user[0].user_id,
        "first-time user": new_user.user_id,
        "e-mail OTP user": email_user.user_id,
        "locked": locked.user_id,
        "disabled": make_user(participant, "B0123405", status=User.Status.DISABLED).user_id,
        "first-timer without e-mail": make_user(participant, "B0123406", email="").user_id,
        "unknown": "B0123499",
        "not an ID": "hello",
    }


def seen(response, typed=""):
    location = response.get("Location", "")
    return response.status_code, location, comparable_page(response.content.decode(), typed)


def probe(user_id, on_commit, address="10.9.9.9"):
    """What a stranger in a fresh browser sees of each step, for one typed ID."""
    stranger = Client(REMOTE_ADDR=address)
    answers = [seen(post(stranger, "/reset/", {"user_id": user_id}, on_commit), user_id)]
    answers.append(seen(stranger.get("/reset/otp/")))
    answers.append(seen(stranger.post("/reset/otp/", {"otp": "00000000"})))
    answers.append(seen(post(stranger, "/reset/otp/", {"action": "request"}, on_commit)))
    answers.append(seen(stranger.get("/reset/otp/")))  # with the REQUEST OTP message
    return answers


def test_sec08_a_stranger_probing_ids_of_every_kind_gets_identical_answers(people, django_capture_on_commit_callbacks):
    answers = {kind: probe(user_id, django_capture_on_commit_callbacks) for kind, user_id in people.items()}
    first = answers["unknown"]
    assert all(seen == first for seen in answers.values()), [k for k, v in answers.items() if v != first]
    assert first[0][:2] == (302, "/reset/otp/") and first[2][0] == 400
    # The mail went to the first-time user only: nothing the stranger can see.
    assert {to for m in mail.outbox for to in m.to} == {"b0123401@abc-securities.example"}


@pytest.mark.django_db(transaction=True)  # on_commit runs as in production: the queue's refusal reaches the view
def test_the_queue_down_looks_the_same_too(people):
    original = send_email_otp.apply_async
    send_email_otp.apply_async = lambda *a, **k: (_ for _ in ()).throw(ConnectionRefusedError("broker down"))
    try:
        down = probe(people["first-time user"], None)
    finally:
        send_email_otp.apply_async = original
    assert down == probe(people["unknown"], None, address="10.9.9.8")


def test_the_people_themselves_can_still_reset(people, app_user, django_capture_on_commit_callbacks):
    _, app = app_user
    mine = Client()
    mine.post("/reset/", {"user_id": people["app user"]})
    assert mine.post("/reset/otp/", {"otp": app.code()})["Location"] == "/reset/password/"
    first_timer = Client()
    post(first_timer, "/reset/", {"user_id": people["first-time user"]}, django_capture_on_commit_callbacks)
    assert first_timer.post("/reset/otp/", {"otp": last_email_otp()})["Location"] == "/reset/password/"
    first_timer.post("/reset/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert User.objects.get(user_id=people["first-time user"]).check_password(NEW_PASSWORD)


def test_wrong_codes_lock_a_person_and_an_unknown_id_alike(people):
    """Fifteen wrong codes lock the person (3 wrong OTPs count as 1 failed logon); the reset
    page never says so, and the logon page says it alike for a person and for nobody."""
    sequences, logon_pages = {}, {}
    for kind in ("e-mail OTP user", "unknown"):
        stranger = Client()
        stranger.post("/reset/", {"user_id": people[kind]})
        sequences[kind] = [seen(stranger.post("/reset/otp/", {"otp": "000000"})) for _ in range(16)]
        logon_pages[kind] = seen(
            Client().post("/login/", {"user_id": people[kind], "password": GOOD_PASSWORD}), people[kind]
        )
    assert sequences["e-mail OTP user"] == sequences["unknown"]
    assert len(set(sequences["unknown"])) == 1 and sequences["unknown"][0][0] == 400
    assert str(LOCKED_MESSAGE) not in sequences["unknown"][-1][2]
    assert User.objects.get(user_id=people["e-mail OTP user"]).is_locked
    assert logon_pages["e-mail OTP user"] == logon_pages["unknown"] and str(LOCKED_MESSAGE) in logon_pages["unknown"][2]


def test_requests_are_limited_per_user_id_whoever_it_names(people):
    for kind in ("app user", "unknown"):
        answers = [Client(REMOTE_ADDR=f"10.0.0.{n}").post("/reset/", {"user_id": people[kind]}) for n in range(6)]
        assert [a.status_code for a in answers] == [302] * 5 + [429]
        assert str(TOO_MANY_REQUESTS) in answers[-1].content.decode()
    # Someone else's ID from the same addresses is not held back.
    assert Client(REMOTE_ADDR="10.0.0.1").post("/reset/", {"user_id": "B0123477"}).status_code == 302


def test_requests_are_limited_per_client_address(settings):
    answers = [Client(REMOTE_ADDR="10.7.7.7").post("/reset/", {"user_id": f"B01234{n:02d}"}) for n in range(21)]
    assert [a.status_code for a in answers] == [302] * 20 + [429]
    assert Client(REMOTE_ADDR="10.7.7.8").post("/reset/", {"user_id": "B0123477"}).status_code == 302
