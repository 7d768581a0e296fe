"""The one settings module. Everything environment-specific comes from variables.

| variable | default | meaning |
|---|---|---|
| FAIRSHARE_DATA_DIR | ./var | data folder: SQLite file, secret key, uploads, static |
| DATABASE_URL | (SQLite in the data folder) | postgres://user@host:port/db |
| REDIS_URL | (none: database cache) | redis://host:port/db for cache and rate limits |
| SECRET_KEY | (generated once, kept in the data folder) | Django secret key |
| FAIRSHARE_DEBUG | false | Django debug mode |
| FAIRSHARE_ALLOWED_HOSTS | 127.0.0.1,localhost,[::1] | comma-separated host names |
| FAIRSHARE_SECURE | false | HTTPS-only cookies, HSTS, SSL redirect (set behind TLS) |
| FAIRSHARE_SMS_BACKEND | console | console, file or a dotted path |
| FAIRSHARE_TIME_ZONE | Asia/Shanghai | local time of the rounds |
| PORT | 8000 | port of `fairshare serve` / `make demo` |
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from fairshare.env import EnvError, env_bool, env_int, env_path, env_str, parse_database_url

# Generic Django classes (ModelAdmin[Model], QuerySet[Model]) usable at run time, as typed.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_path("FAIRSHARE_DATA_DIR", Path.cwd() / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    explicit = env_str("SECRET_KEY")
    if explicit:
        if len(explicit) < 32:
            raise EnvError("SECRET_KEY", "must be at least 32 characters long")
        return explicit
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("FAIRSHARE_DEBUG", False)
SECURE = env_bool("FAIRSHARE_SECURE", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in env_str("FAIRSHARE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "fairshare.core",
    "fairshare.community",
    "fairshare.rounds",
    "fairshare.accounts",
    "fairshare.registration",
    "fairshare.allocation",
    "fairshare.pharmacy",
    "fairshare.transparency",
    "fairshare.operations",  # operators' commands: demo, serve, seed_demo
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fairshare.core.middleware.SecurityHeadersMiddleware",
    "fairshare.core.dbguard.DatabaseGuardMiddleware",  # DB outage → 503, not 500
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fairshare.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fairshare.core.textguard.TextGuardMiddleware",  # NUL in a page request → 400, not 500
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fairshare.urls"
WSGI_APPLICATION = "fairshare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fairshare.core.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": parse_database_url(env_str("DATABASE_URL"), data_dir=DATA_DIR)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise EnvError("REDIS_URL", f"expected redis://host:port/db; got {REDIS_URL!r}")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "fairshare",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "fairshare_cache",
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "home"

AXES_FAILURE_LIMIT = env_int("FAIRSHARE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("FAIRSHARE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Project-wide static files (vendored libraries, site.css); apps keep theirs in <app>/static.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Private uploads (ID photos): never under STATIC_ROOT, never served directly.
PRIVATE_MEDIA_ROOT = DATA_DIR / "private"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
X_FRAME_OPTIONS = "DENY"

SMS_BACKEND = env_str("FAIRSHARE_SMS_BACKEND", "console")
SMS_FILE_PATH = DATA_DIR / "sms.log"

# Row-lock wait before a write answers "busy, retry" (PostgreSQL lock_timeout).
LOCK_TIMEOUT_MS = env_int("FAIRSHARE_LOCK_TIMEOUT_MS", 3000, minimum=10, maximum=60000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"fairshare": {"level": "INFO"}},
}

# --- ratelimit (registration) ---
# Fixed-window limits per IP and per phone: {name: {scope: (limit, window_seconds)}}.
# Redis is used when REDIS_URL is set (exact), the database cache otherwise.
RATELIMIT_ENABLED = env_bool("FAIRSHARE_RATELIMIT", True)
# e.g. "HTTP_X_FORWARDED_FOR" when behind a trusted reverse proxy; empty: REMOTE_ADDR.
RATELIMIT_TRUSTED_PROXY_HEADER = env_str("FAIRSHARE_RATELIMIT_PROXY_HEADER", "")
RATELIMITS = {
    # A household registers once. Per-IP limits are generous: mobile carriers put whole
    # compounds behind one address (CGNAT), and a committee's Wi-Fi serves many helpers;
    # the per-phone limit is the tight one.
    "register": {
        "ip": (env_int("FAIRSHARE_RL_REGISTER_IP", 600, minimum=1), 600),
        "phone": (env_int("FAIRSHARE_RL_REGISTER_PHONE", 5, minimum=1), 600),
    },
    "sms_code": {
        "ip": (env_int("FAIRSHARE_RL_SMS_IP", 100, minimum=1), 3600),
        "phone": (env_int("FAIRSHARE_RL_SMS_PHONE", 3, minimum=1), 600),
    },
    "status": {
        "ip": (env_int("FAIRSHARE_RL_STATUS_IP", 300, minimum=1), 600),
        "phone": (env_int("FAIRSHARE_RL_STATUS_PHONE", 20, minimum=1), 600),
    },
}
# SMS codes for phone verification: lifetime and wrong tries before the code is dead.
PHONE_CODE_TTL_SECONDS = 600
PHONE_CODE_MAX_ATTEMPTS = 5

# --- accounts ---
# Log out users whose access ended (expired helpers); must come after AuthenticationMiddleware.
MIDDLEWARE += ["fairshare.accounts.middleware.AccessExpiryMiddleware"]
# Personal data of a closed round is purged this many days after its last purchase day
# (`fairshare purge_due`, run daily from cron).
FAIRSHARE_PURGE_AFTER_DAYS = env_int("FAIRSHARE_PURGE_AFTER_DAYS", 30, minimum=0, maximum=3650)
# Key of the ID-number hashes (fairshare.accounts.pii); derived from SECRET_KEY when empty.
FAIRSHARE_PII_KEY = env_str("FAIRSHARE_PII_KEY")
# Failed logins from one IP address (any usernames) before it is refused for the cool-off.
FAIRSHARE_LOGIN_IP_FAILURE_LIMIT = env_int("FAIRSHARE_LOGIN_IP_FAILURE_LIMIT", 30, minimum=1)
