"""Settings of the peer site (bench/peer): django-two-factor-auth's LoginView, nothing else."""

import os

import environ

env = environ.Env()

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "bench-peer-key-not-a-secret-0123456789abcdefghij")  # nosec B105
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bench.peer.urls"
WSGI_APPLICATION = "bench.peer.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": env.db_url("DATABASE_URL")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The very hasher class the portal uses: argon2id m=19 MiB, t=2, p=1.
PASSWORD_HASHERS = ["accounts.hashers.PortalArgon2PasswordHasher"]

LOGIN_URL = "two_factor:login"
LOGIN_REDIRECT_URL = "success"
USE_TZ = True
TIME_ZONE = "Asia/Hong_Kong"
SESSION_COOKIE_HTTPONLY = True
STATIC_URL = "static/"
