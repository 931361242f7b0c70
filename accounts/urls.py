"""Logon URLs, included once per portal under its namespace:
"terminal" at /, "dms" at /dms/, "backoffice" at /backoffice/."""

from django.urls import path

from . import views

logon_urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/otp/", views.otp, name="otp"),
    path("login/passkey/", views.passkey, name="passkey"),
    path("login/passkey/begin/", views.passkey_begin, name="passkey-begin"),
    path("login/passkey/complete/", views.passkey_complete, name="passkey-complete"),
    path("login/passkey/cancel/", views.passkey_cancel, name="passkey-cancel"),
    path("login/setup/passkey/", views.passkey_register, name="passkey-register"),
    path("login/setup/passkey/begin/", views.passkey_register_begin, name="passkey-register-begin"),
    path("login/setup/passkey/complete/", views.passkey_register_complete, name="passkey-register-complete"),
    path("login/setup/", views.setup, name="setup"),
    path("login/setup/register/", views.register, name="register"),
    path("login/setup/skip/", views.skip, name="skip"),
    path("login/expired/", views.expired, name="expired"),
    path("login/success/", views.success, name="success"),
    path("login/smartcard/", views.smartcard, name="smartcard"),
    path("logout/", views.logout, name="logout"),
    path("reset/", views.reset_start, name="reset"),
    path("reset/otp/", views.reset_otp, name="reset-otp"),
    path("reset/passkey/begin/", views.reset_passkey_begin, name="reset-passkey-begin"),
    path("reset/passkey/complete/", views.reset_passkey_complete, name="reset-passkey-complete"),
    path("reset/passkey/cancel/", views.reset_passkey_cancel, name="reset-passkey-cancel"),
    path("reset/password/", views.reset_password, name="reset-password"),
    path("reset/done/", views.reset_done, name="reset-done"),
    path("password/", views.change_password, name="change-password"),
    path("password/authentication-settings/", views.authentication_settings, name="auth-settings"),
    path("password/authentication-settings/passkey/", views.settings_passkey, name="auth-settings-passkey"),
    path(
        "password/authentication-settings/passkey/begin/",
        views.settings_passkey_begin,
        name="auth-settings-passkey-begin",
    ),
    path(
        "password/authentication-settings/passkey/complete/",
        views.settings_passkey_complete,
        name="auth-settings-passkey-complete",
    ),
    path(
        "password/authentication-settings/passkey/cancel/",
        views.settings_passkey_cancel,
        name="auth-settings-passkey-cancel",
    ),
]
