"""Settings for the CCASS/CCMS Terminal portal.

Every setting that differs between the embedded demo, the compose stack and
production comes from the environment (see `.env.example` and the README).
With nothing set, the portal runs embedded: SQLite under `var/`, Celery tasks
in-process, and mail kept in the demo outbox.
"""

from datetime import date, timedelta
from importlib.util import find_spec
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is false.")
    # Debug only: a fixed, obviously unsafe key so sessions survive restarts.
    SECRET_KEY = "insecure-debug-only-key-never-use-in-production"  # nosec B105

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- The portal's own settings -------------------------------------------------
PORTAL_DEMO = env.bool("PORTAL_DEMO", default=False)
PORTAL_ENFORCE_SERVICE_HOURS = env.bool("PORTAL_ENFORCE_SERVICE_HOURS", default=not PORTAL_DEMO)
PORTAL_LAUNCH_DATE = date.fromisoformat(env.str("PORTAL_LAUNCH_DATE", default="2023-06-12"))
# The demo runs in the parallel-run phase (smartcard still offered) unless a
# date is set: its default decommissioning date is 12 weeks after start-up.
PORTAL_SMARTCARD_DECOMMISSION_DATE = date.fromisoformat(
    env.str(
        "PORTAL_SMARTCARD_DECOMMISSION_DATE",
        default=(date.today() + timedelta(weeks=12)).isoformat() if PORTAL_DEMO else "2023-09-04",
    )
)

# --- Applications --------------------------------------------------------------
INSTALLED_APPS = [
    "ccass_portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_email",
    "ccass_portal",
    "accounts",
    "otp",
    "dms",
    "terminal",
    "demo",
]

MIDDLEWARE = [
    "ccass_portal.middleware.DemoClockMiddleware",  # first: every later step sees the request's one time
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise, its index made when the worker first serves a static file (ccass_portal/static_files.py).
    "ccass_portal.static_files.StaticFilesOnFirstUse",
    # HTML compressed when the browser accepts gzip, with Django's BREACH padding; after WhiteNoise,
    # whose static files are already compressed (docs/security.md, "Accessibility on phones and
    # screen readers"). Only headers are added below, so compression happens last.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.VerifiedPersonMiddleware",  # django-otp's OTPMiddleware, the person and device in one read
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.ServiceHoursMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ccass_portal.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, its policy built once
]

ROOT_URLCONF = "ccass_portal.urls"
WSGI_APPLICATION = "ccass_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ccass_portal.context_processors.portal",
                "accounts.context_processors.smartcard",
                "demo.context_processors.demo_controls",
            ],
        },
    },
]

# Django's form renderer with <input> widgets written in Python, as its templates write them (issue 19).
FORM_RENDERER = "ccass_portal.form_renderer.PortalFormRenderer"

# --- Database --------------------------------------------------------------------
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so counting failed
    # logons is serialised on SQLite the way SELECT ... FOR UPDATE does on PostgreSQL.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # Values sent apart from the SQL (server-side binding), and a statement prepared once its connection
    # has run it five times (Django turns psycopg's preparing off unless asked): PostgreSQL parses and
    # plans each logon statement once, not on every request (docs/decisions.md,
    # "Server-side binding and prepared statements"). Behind a transaction-pooling PgBouncer, set
    # DJANGO_DB_PREPARE_THRESHOLD to an empty value.
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        prepare_threshold = env.str("DJANGO_DB_PREPARE_THRESHOLD", default="5")
        options = DATABASES["default"].setdefault("OPTIONS", {})  # what DATABASE_URL says comes first
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", int(prepare_threshold) if prepare_threshold else None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and passwords ---------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# argon2id first (OWASP/ASVS 5.0: m=19 MiB, t=2, p=1); the others only verify
# old hashes, which are upgraded on the next successful logon.
PASSWORD_HASHERS = [
    "accounts.hashers.PortalArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.password_validation.HkexPasswordPolicyValidator"},
    {"NAME": "accounts.password_validation.ContextWordsValidator"},
    {"NAME": "accounts.password_validation.PasswordHistoryValidator", "OPTIONS": {"history": 5}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Internationalisation --------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Hong_Kong"
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "DJANGO_STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}

# --- Sessions and cookies --------------------------------------------------------
# Django's database sessions, written in fewer statements (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
# The portal's own page, in the person's language and without the database (ccass_portal/errors.py).
CSRF_FAILURE_VIEW = "ccass_portal.errors.csrf_failure"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Sessions stay in the database, not in Redis: with Redis down, only e-mail OTP
# delivery stops (SECURITY.md 30) and every other logon still works.
PORTAL_SESSION_IDLE_TIMEOUT = env.int("PORTAL_SESSION_IDLE_TIMEOUT", default=15 * 60)
PORTAL_SESSION_ABSOLUTE_TIMEOUT = env.int("PORTAL_SESSION_ABSOLUTE_TIMEOUT", default=12 * 60 * 60)
SESSION_COOKIE_AGE = PORTAL_SESSION_ABSOLUTE_TIMEOUT

# --- Mail ------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="noreply_pt@hkex.com.hk")
_email_url = env.str("EMAIL_URL", default="")
if _email_url:
    vars().update(env.email_url_config(_email_url))
elif PORTAL_DEMO:
    EMAIL_BACKEND = "ccass_portal.mail.DemoOutboxEmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Celery ----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # Embedded mode: no broker; tasks run in-process once the transaction commits.
    # The host is named so kombu does not warn "No hostname was supplied" on every send.
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING: one format, one zone
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Run by `bin/beat` (one beat process per stack): the overnight reports at 02:00 Hong Kong time.
# A dict schedule holds crontab fields; ccass_portal/celery.py makes the crontab, so that loading
# the settings (every web worker) does not load Celery.
CELERY_BEAT_SCHEDULE = {
    "overnight-reports": {
        "task": "terminal.tasks.generate_overnight_reports",
        "schedule": {"hour": 2, "minute": 0},
    },
    # Queued e-mail OTPs lost on the way are sent again or released (otp.tasks).
    "otp-sweep-lost-email-otps": {
        "task": "otp.tasks.sweep_lost_email_otps",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    # Hourly: expired sessions out of the session table (accounts.tasks; docs/operations.md).
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": {"minute": 40},
    },
    # Hourly: keyed attempt counts past the lockout window (accounts.lockout; docs/operations.md).
    "sweep-keyed-attempts": {
        "task": "accounts.tasks.sweep_keyed_attempts",
        "schedule": {"minute": 50},
    },
}

# --- Security headers ------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Production redirects plain http to https; /sso/ stays reachable for load balancers' checks.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^sso/$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The reverse proxies (nginx: deploy/nginx/) whose X-Forwarded-For names the client; addresses
# or networks. Empty: REMOTE_ADDR is the client, whatever the headers say (accounts/client.py).
PORTAL_TRUSTED_PROXIES = env.list("PORTAL_TRUSTED_PROXIES", default=[])

# Content Security Policy (django-csp): only our own files, no framing, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # the QR code is a data: PNG
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Logging ---------------------------------------------------------------------
# One JSON object per line on stdout. Nothing logged carries a password or an
# OTP: the code logs ids and outcomes only, and credential views are marked
# sensitive_post_parameters so error reports omit their POST bodies.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One time zone in every line (TIME_ZONE, with its offset); plain audit lines keep the
    # event, actor and subject (ccass_portal/logs.py).
    "formatters": {
        "json": {
            "()": "ccass_portal.logs.JsonLineFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "zone": TIME_ZONE,
        },
        "plain": {
            "()": "ccass_portal.logs.PlainFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "zone": TIME_ZONE,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": env.str("DJANGO_LOG_FORMAT", default="json"),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- OTP (django-otp and the portal's devices) -------------------------------------
OTP_EMAIL_TOKEN_LENGTH = 8  # "One Time Password (OTP) for CCASS: 10767258"
# Valid for 5 minutes, and can only be requested every 5 minutes (App. C step e).
# Settable only so that the fault tests can watch a real worker give up on an expired code.
OTP_EMAIL_TOKEN_VALIDITY = env.int("PORTAL_OTP_EMAIL_VALIDITY", default=300)
OTP_EMAIL_COOLDOWN_DURATION = env.int("PORTAL_OTP_EMAIL_COOLDOWN", default=300)
# A queued e-mail OTP the worker has not taken up within this many seconds was lost on the way;
# the sweep (CELERY_BEAT_SCHEDULE "otp-sweep-lost-email-otps") publishes it again or releases it.
OTP_EMAIL_DELIVERY_GRACE = env.int("PORTAL_OTP_EMAIL_DELIVERY_GRACE", default=10)
OTP_EMAIL_SENDER = DEFAULT_FROM_EMAIL
OTP_EMAIL_SUBJECT = "CCASS: One Time Password"
# No URL and no User ID in the mail, for security reasons (App. C step e).
OTP_EMAIL_BODY = "One Time Password (OTP) for CCASS: {token}"
OTP_TOTP_ISSUER = env.str("PORTAL_TOTP_ISSUER", default="HKEX CCASS")
OTP_TOTP_SYNC = False  # no drift learning: at most one step of tolerance, always
PORTAL_OTP_ENCRYPTION_KEYS = env.list("PORTAL_OTP_ENCRYPTION_KEYS", default=[])

# Passkeys (WebAuthn), issue 18: a third factor HKEX could switch on. Off, the portal is exactly
# the seeds' portal; the demo turns it on. The relying party ID is the host name the browser
# shows (no scheme, no port); the allowed origins are the exact origins a ceremony may come
# from. A ceremony from any other origin is refused (docs/security.md, "Passkeys").
PORTAL_PASSKEYS = env.bool("PORTAL_PASSKEYS", default=PORTAL_DEMO)
if PORTAL_PASSKEYS:
    # Installed only when on: its models load py_webauthn, pyOpenSSL, cbor2 and pyasn1 (~7 MiB per
    # worker, issue 19). Off, its tables stay as they are (docs/decisions.md, "Passkeys off:
    # django-otp-webauthn not loaded").
    INSTALLED_APPS.insert(INSTALLED_APPS.index("ccass_portal"), "django_otp_webauthn")
else:
    # Its scripts are collected all the same (found without importing it), so a static build made
    # with passkeys off (the image's) still serves the passkey pages once they are switched on.
    STATICFILES_DIRS.append(Path(find_spec("django_otp_webauthn").submodule_search_locations[0]) / "static")
OTP_WEBAUTHN_RP_ID = env.str("PORTAL_PASSKEY_RP_ID", default="localhost")
OTP_WEBAUTHN_RP_NAME = env.str("PORTAL_PASSKEY_RP_NAME", default="HKEX CCASS/CCMS Terminal")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "PORTAL_PASSKEY_ORIGINS",
    default=["http://localhost:8000"],  # WebAuthn takes no IP address
)
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a passkey is the second factor, after the password

# Publishing a task to a dead broker must answer the user within 2 s (SECURITY.md 30).
PORTAL_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task not acknowledged within this time is redelivered; longer than
    # any send, shorter than a code's 5-minute life.
    "visibility_timeout": env.int("PORTAL_CELERY_VISIBILITY_TIMEOUT", default=120),
    # Look for tasks of vanished workers every ~10 s (kombu's default is ~100 s),
    # so a redelivered OTP mail still arrives well inside the code's 5 minutes.
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# --- Lockout and expiry (§4.1.2, §4.2.2, App. D.a) --------------------------------
PORTAL_LOCKOUT_FAILURES = 5  # consecutive unsuccessful logons ...
PORTAL_LOCKOUT_WINDOW = 30 * 60  # ... within 30 minutes lock the account
PORTAL_OTP_FAILURES_PER_LOGON_FAILURE = 3  # 3 wrong OTPs count as 1 failed logon
PORTAL_PASSWORD_MAX_AGE_DAYS = 90
PORTAL_PASSWORD_EXPIRY_WARNING_DAYS = 14
# Self-service reset requests within the lockout window, per typed User ID and per client
# address (docs/decisions.md, "Self-service reset answers alike"); beyond them: "try later".
PORTAL_RESET_REQUESTS_PER_USER_ID = env.int("PORTAL_RESET_REQUESTS_PER_USER_ID", default=5)
PORTAL_RESET_REQUESTS_PER_ADDRESS = env.int("PORTAL_RESET_REQUESTS_PER_ADDRESS", default=20)
