"""First-time logon (App. C.1, C.2), ongoing logon (App. C.3) and the pages after it."""

import base64
import io
import re
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest
import time_machine
from django.core import mail
from PIL import Image
from pyzbar.pyzbar import decode

from accounts.models import AuditEvent, OtpChannel
from otp.models import AuthenticatorDevice
from tests.factories import GOOD_PASSWORD, NEW_PASSWORD, AuthenticatorApp
from tests.logon_helpers import app_logon, email_logon, is_logged_in, last_email_otp, password_step, post

pytestmark = pytest.mark.django_db


def reset_to_new_password(client, user_id, on_commit, prefix=""):
    response = post(client, f"{prefix}/reset/", {"user_id": user_id}, on_commit)
    assert response.status_code == 302 and response["Location"] == f"{prefix}/reset/otp/"
    response = client.post(f"{prefix}/reset/otp/", {"otp": last_email_otp()})
    assert response["Location"] == f"{prefix}/reset/password/"
    response = client.post(f"{prefix}/reset/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == f"{prefix}/reset/done/"
    done = client.get(f"{prefix}/reset/done/")
    assert b"Password changed successfully" in done.content and b"Close" in done.content


def test_first_time_logon_by_email(client, new_user, django_capture_on_commit_callbacks):
    page = client.get("/login/?service=online").content.decode()
    assert all(
        label in page for label in ["User Login", "User ID", "Password", "LOG IN", "Forgot/Reset your password? &gt;"]
    )
    assert "Input User ID" in client.get("/reset/").content.decode()

    # Forgot/Reset -> User ID (any case, blanks) -> e-mail OTP
    response = post(client, "/reset/", {"user_id": " b0123401 "}, django_capture_on_commit_callbacks)
    assert response["Location"] == "/reset/otp/"
    [message] = mail.outbox
    assert message.subject == "CCASS: One Time Password"
    assert message.to == ["b0123401@abc-securities.example"]
    assert re.fullmatch(r"One Time Password \(OTP\) for CCASS: \d{8}", message.body.strip())
    assert "B0123401" not in message.body.upper() and "http" not in message.body.lower()
    page = client.get("/reset/otp/").content.decode()
    for label in [
        "Please Enter Your One Time Password, Or Request A New One",
        "Enter OTP",
        "SUBMIT OTP",
        "REQUEST OTP",
    ]:
        assert label in page
    response = client.post("/reset/otp/", {"otp": last_email_otp()})
    assert response["Location"] == "/reset/password/"
    page = client.get("/reset/password/").content.decode()
    assert all(
        label in page
        for label in [
            "Reset Password",
            "Please enter your new password below.",
            "Password",
            "Confirm password",
            "SUBMIT",
        ]
    )
    client.post("/reset/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert not is_logged_in(client)  # a reset never logs anyone in

    # User Login -> ForgeRock Authenticator (OATH) -> SKIP THIS STEP -> ACCEPT -> e-mail OTP
    response = password_step(client, "B0123401", NEW_PASSWORD)
    assert response["Location"] == "/login/setup/"
    page = client.get("/login/setup/").content.decode()
    assert all(label in page for label in ["ForgeRock Authenticator (OATH)", "REGISTER DEVICE", "SKIP THIS STEP"])
    response = client.post("/login/setup/", {"action": "skip"})
    assert response["Location"] == "/login/setup/skip/"
    page = client.get("/login/setup/skip/").content.decode()
    assert "ACCEPT" in page and "cannot reset your own password" in page
    response = post(client, "/login/setup/skip/", {}, django_capture_on_commit_callbacks)
    assert response["Location"] == "/login/otp/"
    assert len(mail.outbox) == 2
    response = client.post("/login/otp/", {"otp": last_email_otp()})
    assert response["Location"] == "/login/success/"
    page = client.get("/login/success/").content.decode()
    assert "Logon Success" in page and "B0123401" in page and "Logout" in page and "Change Password" in page

    new_user.refresh_from_db()
    assert new_user.otp_channel == OtpChannel.EMAIL and new_user.has_twofa
    assert AuditEvent.objects.filter(subject=new_user, kind="logon_success").count() == 1


def test_sec12_first_time_logon_by_app_with_a_real_qr_code(client, new_user, django_capture_on_commit_callbacks):
    reset_to_new_password(client, "B0123401", django_capture_on_commit_callbacks)
    password_step(client, "B0123401", NEW_PASSWORD)
    response = client.post("/login/setup/", {"action": "register"})
    assert response["Location"] == "/login/setup/register/"
    page = client.get("/login/setup/register/")
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()

    # The QR image as served, decoded as an authenticator app would.
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1))
    [symbol] = decode(Image.open(io.BytesIO(png)))
    uri = symbol.data.decode()
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert unquote(parsed.path) == "/HKEX CCASS:B0123401"  # issuer, then the User ID as the account
    params = parse_qs(parsed.query)
    assert params["digits"] == ["6"] and params["period"] == ["30"] and params["issuer"] == ["HKEX CCASS"]
    secret = params["secret"][0]
    assert len(base64.b32decode(secret)) == 20  # 160 bits
    # The key is also shown in text for manual entry, grouped for reading.
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html

    # The registration counts only after a valid code.
    device = AuthenticatorDevice.objects.get(user=new_user)
    assert not device.confirmed
    response = client.post("/login/setup/register/", {"otp": "000000"})
    assert response.status_code == 400 and b"Invalid OTP" in response.content
    device.refresh_from_db()
    assert not device.confirmed
    app = pyotp.TOTP(secret)
    response = client.post("/login/setup/register/", {"otp": app.now()})
    assert response["Location"] == "/login/success/"
    device.refresh_from_db()
    new_user.refresh_from_db()
    assert device.confirmed and new_user.otp_channel == OtpChannel.APP and new_user.has_twofa
    assert AuditEvent.objects.filter(subject=new_user, kind="device_registered").count() == 1


def test_sec11_secret_is_encrypted_at_rest_and_not_shown_again(client, app_user):
    user, app = app_user
    device = AuthenticatorDevice.objects.get(user=user)
    assert device.key == "" and device.sealed_key and app.totp.secret not in device.sealed_key
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    for url in ["/login/success/", "/terminal/", "/password/", "/password/authentication-settings/"]:
        assert app.totp.secret.encode() not in client.get(url).content
    assert client.get("/login/setup/register/").status_code == 302  # no registration step outside first-time setup


def test_ongoing_logon_by_app(client, app_user):
    user, app = app_user
    response = password_step(client, user.user_id, GOOD_PASSWORD)
    assert response["Location"] == "/login/otp/"
    page = client.get("/login/otp/").content.decode()
    assert "ForgeRock Authenticator (OATH)" in page and "SUBMIT" in page
    assert not is_logged_in(client)  # nothing protected between the steps
    response = client.post("/login/otp/", {"otp": app.code()})
    assert response["Location"] == "/login/success/"
    assert is_logged_in(client)


def test_ongoing_logon_by_email(client, email_user, django_capture_on_commit_callbacks):
    response = email_logon(client, email_user.user_id, GOOD_PASSWORD, django_capture_on_commit_callbacks)
    assert response["Location"] == "/login/success/"
    assert is_logged_in(client)


def test_success_page_shows_previous_access_in_hong_kong_time(client, app_user):
    user, app = app_user
    with time_machine.travel("2023-04-21 05:41:51 +0000", tick=False):  # 13:41:51 in Hong Kong
        app_logon(client, user.user_id, GOOD_PASSWORD, app)
    client.logout()
    with time_machine.travel("2023-04-22 02:00:00 +0000", tick=True):
        app_logon(client, user.user_id, GOOD_PASSWORD, app)
        page = client.get("/login/success/").content.decode()
    assert "B0123403 last access on 21-Apr-23 at 13:41:51" in page


def test_terminal_home_functions_and_reports(client, app_user):
    user, app = app_user
    password_step(client, user.user_id, GOOD_PASSWORD, service="reports")
    client.post("/login/otp/", {"otp": app.code()})
    success = client.get("/login/success/").content.decode()
    assert 'href="/reports/"' in success  # "Login with OTP - Overnight Report Download"
    assert b"Overnight Report Download" in client.get("/reports/").content
    home = client.get("/terminal/").content.decode()
    assert "Online Functions" in home and "Delivery Instruction (DI)" in home
    page = client.get("/terminal/functions/delivery-instruction-di/").content.decode()
    assert "Function not available" in page
    assert client.get("/terminal/functions/no-such-function/").status_code == 404


def test_dms_logon_is_for_das_and_terminal_for_users(client, participant, app_user):
    from accounts.models import Role
    from tests.factories import make_user

    user, app = app_user
    response = password_step(client, user.user_id, GOOD_PASSWORD, prefix="/dms")
    assert response.status_code == 200
    assert b"Only Delegated Administrators" in response.content
    da = make_user(participant, "B01234X1", role=Role.DA_MAKER, password=GOOD_PASSWORD, channel=OtpChannel.APP)
    device = AuthenticatorDevice.new_for(da)
    device.confirmed = True
    device.save()
    da_app = AuthenticatorApp(device.base32_key)
    assert b"cannot use the CCASS/CCMS Terminal" in password_step(client, da.user_id, GOOD_PASSWORD).content
    response = app_logon(client, da.user_id, GOOD_PASSWORD, da_app, prefix="/dms")
    assert response["Location"] == "/dms/login/success/"
    assert client.get("/dms/home/").status_code == 200
    assert client.get("/terminal/").status_code == 403  # a DMS session is not a terminal session


def test_logout_ends_the_session(client, app_user):
    user, app = app_user
    app_logon(client, user.user_id, GOOD_PASSWORD, app)
    assert client.get("/logout/").status_code == 405  # logout is a POST (CSRF-protected)
    response = client.post("/logout/")
    assert response["Location"] == "/"
    assert not is_logged_in(client)
    assert AuditEvent.objects.filter(subject=user, kind="logout").count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"user_id": "", "password": ""},
        {"user_id": "x" * 5000, "password": "y"},
        {"user_id": "B0123401", "password": "p" * 5000},
    ],
)
def test_login_bad_input_is_a_400_with_a_message_and_changes_nothing(client, app_user, data):
    user, _ = app_user
    before = AuditEvent.objects.count()
    response = client.post("/login/", data)
    assert response.status_code == 400
    assert b"error-summary" in response.content
    assert AuditEvent.objects.count() == before
    user.refresh_from_db()
    assert user.logon_failures == []


@pytest.mark.django_db(transaction=True)  # autocommit, as in production: no test savepoints
@pytest.mark.usefixtures("no_demo_clock")
def test_logon_steps_stay_cheap_in_queries(client, app_user, django_assert_num_queries, settings):
    """The hot path of the 10:30 rush: each step's statements, exactly, so that neither a saving is
    lost nor a guarantee's statement silently dropped (docs/benchmarks.md, "Statements per logon")."""
    user, app = app_user
    with django_assert_num_queries(0):
        assert client.get("/login/").status_code == 200
    # The person, the app, the new session; with passkeys on, whether the person holds one (issue 18).
    with django_assert_num_queries(3 + settings.PORTAL_PASSKEYS):
        password_step(client, user.user_id, GOOD_PASSWORD)
    with django_assert_num_queries(1):  # the session
        assert client.get("/login/otp/").status_code == 200
    # Session, person (row lock), app (row lock, UPDATE; no savepoint inside the step's transaction,
    # issue 19), counts and stamps in one UPDATE, audit row: one transaction, so the code is used only
    # if the logon commits (docs/operations.md); then the session's row renamed to its new key (one
    # UPDATE, issue 19).
    with django_assert_num_queries(9):
        assert client.post("/login/otp/", {"otp": app.code()})["Location"] == "/login/success/"
    # The session; the person and the verified device in one statement (issue 19).
    with django_assert_num_queries(2):
        assert client.get("/login/success/").status_code == 200
    user.refresh_from_db()
    assert user.last_login == user.last_access_at


def test_an_attempt_saved_by_the_earlier_release_still_loads(client, app_user):
    """Sessions outlive a deploy: an attempt holding the attempt id e-mail codes were once bound
    to goes on to the OTP step, not a 500 (accounts.logon.known_fields)."""
    user, app = app_user
    assert password_step(client, user.user_id, GOOD_PASSWORD)["Location"] == "/login/otp/"
    session = client.session
    session["logon"] = {**session["logon"], "attempt_id": "from-the-earlier-release"}
    session.save()
    assert client.get("/login/otp/").status_code == 200
    response = post(client, "/login/otp/", {"otp": app.code()})
    assert response["Location"] == "/login/success/" and is_logged_in(client)
