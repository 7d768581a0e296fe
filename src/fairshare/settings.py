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
| FAIRSHARE_SMS_BACKEND | console | console, file, failing, aliyun or a dotted path (docs/sms.md) |
| FAIRSHARE_TIME_ZONE | Asia/Shanghai | local time of the rounds |
| PORT | 8000 | port of `fairshare serve` / `make demo` |
| FAIRSHARE_SESSION_MAX_HOURS | 12 | staff session ends this many hours after login |
| FAIRSHARE_SESSION_IDLE_MINUTES | 60 | staff session ends after this many minutes idle |
| FAIRSHARE_SESSION_BROWSER_CLOSE | true | staff session ends when the browser closes |
| FAIRSHARE_NODES | 1 | application nodes sharing the database; > 1 needs both keys below set |
| FAIRSHARE_VOUCHER_KEY | (generated once into the data folder) | Ed25519 key of voucher tokens |
| FAIRSHARE_LEDGER_KEY | (generated once into the data folder) | Ed25519 key of ledger checkpoints |
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from fairshare.env import (
    EnvError,
    env_bool,
    env_int,
    env_key32,
    env_path,
    env_str,
    parse_database_url,
    private_storage_config,
)

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

# --- signing keys (core/edkeys.py) ---
# Ed25519 private keys, base64url of 32 raw bytes: voucher tokens (allocation/tokens.py)
# and signed ledger checkpoints (transparency/checkpoints.py). Empty: generated once into
# the data folder, which only works on one node: with FAIRSHARE_NODES > 1 each node would
# sign with its own key, so both must then come from the environment.
FAIRSHARE_NODES = env_int("FAIRSHARE_NODES", 1, minimum=1, maximum=1000)
FAIRSHARE_VOUCHER_KEY = env_key32("FAIRSHARE_VOUCHER_KEY")
FAIRSHARE_LEDGER_KEY = env_key32("FAIRSHARE_LEDGER_KEY")
for _key_name, _key_value in (
    ("FAIRSHARE_VOUCHER_KEY", FAIRSHARE_VOUCHER_KEY),
    ("FAIRSHARE_LEDGER_KEY", FAIRSHARE_LEDGER_KEY),
):
    if FAIRSHARE_NODES > 1 and not _key_value:
        raise EnvError(
            _key_name,
            f"required when FAIRSHARE_NODES is {FAIRSHARE_NODES} (every node must sign with "
            "the same key; a key generated into one node's data folder is that node's only)",
        )
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

# Lockout per (username, client address): five wrong passwords lock that username from
# that address only; other accounts, and the same account elsewhere, are unaffected.
# Failures from one address across usernames never lock anyone: past
# FAIRSHARE_LOGIN_IP_FAILURE_LIMIT the login page asks a challenge (accounts/throttle.py).
AXES_FAILURE_LIMIT = env_int("FAIRSHARE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Tries while locked out do not push the end of the lockout further (the page names it).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "fairshare.core.clientip.client_ip_or_none"
AXES_LOCKOUT_CALLABLE = "fairshare.accounts.throttle.lockout_response"
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
    # Private uploads (ID photos): local folder, database or S3 (core/filestore.py).
    "private": private_storage_config(),
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Private uploads with the local storage (ID photos), roster uploads and job progress:
# never under STATIC_ROOT, never served directly.
PRIVATE_MEDIA_ROOT = DATA_DIR / "private"

SESSION_COOKIE_HTTPONLY = True
# Staff sessions on shared desk computers (fairshare.accounts.middleware.SessionLimitMiddleware):
# ended this long after login however active, after this long without a request, and
# (by default) when the browser closes (the cookie has no expiry date).
FAIRSHARE_SESSION_MAX_SECONDS = 3600 * env_int(
    "FAIRSHARE_SESSION_MAX_HOURS", 12, minimum=1, maximum=24 * 14
)
FAIRSHARE_SESSION_IDLE_SECONDS = 60 * env_int(
    "FAIRSHARE_SESSION_IDLE_MINUTES", 60, minimum=1, maximum=24 * 60
)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("FAIRSHARE_SESSION_BROWSER_CLOSE", True)
SESSION_COOKIE_AGE = FAIRSHARE_SESSION_MAX_SECONDS  # the server-side row never outlives it
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
# No HSTS preload: the preload list takes a registrable domain (a government office's,
# whose other sites this service cannot speak for) and is slow to leave; HSTS is sent on
# every HTTPS answer anyway (docs/deploy.md, "nginx"). Hence check --deploy's W021 is off.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021"]
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
# Reverse proxies in front of the service that append to X-Forwarded-For (0: REMOTE_ADDR);
# core/clientip.py decides the client address of rate limits and login lockout from it.
TRUSTED_PROXY_HOPS = env_int("FAIRSHARE_TRUSTED_PROXY_HOPS", 0, minimum=0, maximum=16)
if env_str("FAIRSHARE_RATELIMIT_PROXY_HEADER"):
    raise EnvError(
        "FAIRSHARE_RATELIMIT_PROXY_HEADER",
        "no longer supported (it trusted the client-controlled leftmost X-Forwarded-For); "
        "unset it and set FAIRSHARE_TRUSTED_PROXY_HOPS to the number of reverse proxies",
    )
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
# Then end sessions past their absolute or idle limit (the FAIRSHARE_SESSION_* settings).
MIDDLEWARE += [
    "fairshare.accounts.middleware.AccessExpiryMiddleware",
    "fairshare.accounts.middleware.SessionLimitMiddleware",
]
# Personal data of a closed round is purged this many days after its last purchase day
# (`fairshare purge_due`, run daily from cron).
FAIRSHARE_PURGE_AFTER_DAYS = env_int("FAIRSHARE_PURGE_AFTER_DAYS", 30, minimum=0, maximum=3650)
# Key of the ID-number hashes (fairshare.accounts.pii); derived from SECRET_KEY when empty.
FAIRSHARE_PII_KEY = env_str("FAIRSHARE_PII_KEY")
# Failed logins from one client address (any usernames) within the cool-off before the login
# page asks a challenge from that address (and the token API refuses it); nobody is locked.
FAIRSHARE_LOGIN_IP_FAILURE_LIMIT = env_int("FAIRSHARE_LOGIN_IP_FAILURE_LIMIT", 30, minimum=1)

# --- dependency failures ---
# Redis answers within this many milliseconds or counts as down (connect and each
# command): an unreachable Redis costs a request at most this, never a hung worker.
FAIRSHARE_REDIS_TIMEOUT_MS = env_int("FAIRSHARE_REDIS_TIMEOUT_MS", 500, minimum=10, maximum=10000)
if REDIS_URL:  # (CACHES was inferred as all-str above: OPTIONS is the one nested value)
    CACHES["default"]["OPTIONS"] = {  # type: ignore[assignment]
        "socket_connect_timeout": FAIRSHARE_REDIS_TIMEOUT_MS / 1000,
        "socket_timeout": FAIRSHARE_REDIS_TIMEOUT_MS / 1000,
    }
# Redis down: rate limits count per process (fail open, see core/ratelimit.py) and Redis
# is tried again after this many seconds; False answers a JSON 503 instead (fail closed).
RATELIMIT_FAIL_OPEN = env_bool("FAIRSHARE_RATELIMIT_FAIL_OPEN", True)
RATELIMIT_SHARED_RETRY_SECONDS = 5
RATELIMIT_WARN_EVERY_SECONDS = 60  # at most one "Redis unreachable" warning a minute
# Database check of /healthz: a SELECT 1 slower than this counts as down (PostgreSQL).
HEALTHZ_DB_TIMEOUT_MS = 2000

# --- offline redemption ---
# docs/offline-redemption.md. A terminal clock may drift this far from the server's
# (sale times later than the upload are clamped to it; beyond the skew the item notes it).
FAIRSHARE_OFFLINE_CLOCK_SKEW_MINUTES = env_int(
    "FAIRSHARE_OFFLINE_CLOCK_SKEW_MINUTES", 10, minimum=0, maximum=120
)
# The longest a terminal may sell offline: a sale dated earlier than the batch's upload
# minus this window (and the skew) is a conflict, never a redemption.
FAIRSHARE_OFFLINE_MAX_HOURS = env_int("FAIRSHARE_OFFLINE_MAX_HOURS", 24, minimum=1, maximum=168)

# --- operations ---
# /metrics (operations/metrics.py, docs/deploy.md "Metrics"): besides district and
# subdistrict logins, these client addresses or networks (comma-separated, e.g. the
# Prometheus server) may read it; the address is core.clientip's. Empty: logins only.
FAIRSHARE_METRICS_ALLOWED_IPS = [
    a.strip() for a in env_str("FAIRSHARE_METRICS_ALLOWED_IPS", "").split(",") if a.strip()
]
try:
    FAIRSHARE_METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(a, strict=False) for a in FAIRSHARE_METRICS_ALLOWED_IPS
    ]
except ValueError as exc:
    raise EnvError("FAIRSHARE_METRICS_ALLOWED_IPS", f"not an address or network: {exc}") from None
# Outermost: counts every 429 and 503 answer, the outage 503 of core.dbguard included.
MIDDLEWARE.insert(0, "fairshare.operations.metrics.ResponseCounterMiddleware")

# --- sms provider ---
# FAIRSHARE_SMS_BACKEND (above): console, file, failing, aliyun (Alibaba Cloud SMS,
# docs/sms.md) or a dotted class path. The provider sends one template per message kind
# (core/sms.py SMS_KINDS); a kind the service sends without a template code is a
# start-up error when the provider is chosen.
_SMS_BUILTIN_BACKENDS = ("console", "file", "failing", "aliyun")
_sms_dotted = "." in SMS_BACKEND and all(p.isidentifier() for p in SMS_BACKEND.split("."))
if SMS_BACKEND not in _SMS_BUILTIN_BACKENDS and not _sms_dotted:
    raise EnvError(
        "FAIRSHARE_SMS_BACKEND",
        f"expected one of {', '.join(_SMS_BUILTIN_BACKENDS)} or a dotted class path; "
        f"got {SMS_BACKEND!r}",
    )
SMS_KINDS_SENT = ("code", "registration", "voucher", "carry_over", "shortfall", "appointment")
SMS_ALIYUN_TEMPLATES = {
    kind: env_str(f"FAIRSHARE_SMS_TEMPLATE_{kind.upper()}") for kind in SMS_KINDS_SENT
}
SMS_ALIYUN_ACCESS_KEY_ID = env_str("FAIRSHARE_SMS_ACCESS_KEY_ID")
SMS_ALIYUN_ACCESS_KEY_SECRET = env_str("FAIRSHARE_SMS_ACCESS_KEY_SECRET")
SMS_ALIYUN_SIGN_NAME = env_str("FAIRSHARE_SMS_SIGN_NAME")
SMS_ALIYUN_REGION = env_str("FAIRSHARE_SMS_REGION", "cn-hangzhou")
# host[:port], optionally with http:// or https:// (default https): a region's endpoint,
# or a loopback stub in tests.
SMS_ALIYUN_ENDPOINT = env_str("FAIRSHARE_SMS_ENDPOINT", "dysmsapi.aliyuncs.com")
SMS_CONNECT_TIMEOUT_MS = env_int(
    "FAIRSHARE_SMS_CONNECT_TIMEOUT_MS", 3000, minimum=100, maximum=60000
)
SMS_READ_TIMEOUT_MS = env_int("FAIRSHARE_SMS_READ_TIMEOUT_MS", 5000, minimum=100, maximum=60000)
_endpoint_host = SMS_ALIYUN_ENDPOINT.split("://", 1)[-1]
if (
    ("://" in SMS_ALIYUN_ENDPOINT and not SMS_ALIYUN_ENDPOINT.startswith(("http://", "https://")))
    or not _endpoint_host
    or any(ch in _endpoint_host for ch in "/?#@ ")
):
    raise EnvError(
        "FAIRSHARE_SMS_ENDPOINT", f"expected [http(s)://]host[:port]; got {SMS_ALIYUN_ENDPOINT!r}"
    )
if SMS_BACKEND in ("aliyun", "fairshare.core.sms_aliyun.AliyunBackend"):
    for _name, _value in (
        ("FAIRSHARE_SMS_ACCESS_KEY_ID", SMS_ALIYUN_ACCESS_KEY_ID),
        ("FAIRSHARE_SMS_ACCESS_KEY_SECRET", SMS_ALIYUN_ACCESS_KEY_SECRET),
        ("FAIRSHARE_SMS_SIGN_NAME", SMS_ALIYUN_SIGN_NAME),
        *((f"FAIRSHARE_SMS_TEMPLATE_{k.upper()}", SMS_ALIYUN_TEMPLATES[k]) for k in SMS_KINDS_SENT),
    ):
        if not _value:
            raise EnvError(_name, "required when FAIRSHARE_SMS_BACKEND is aliyun")

# --- several nodes (issue 17; docs/deploy.md "Several nodes", `make cluster`) ---
from fairshare.env import database_for_pooler, db_pooler, shared_state_check  # noqa: E402

# FAIRSHARE_DB_POOLER=transaction: PgBouncer in transaction pooling between the nodes and
# PostgreSQL (no server-side cursors, no psycopg prepared statements, SET LOCAL only).
FAIRSHARE_DB_POOLER = db_pooler()
DATABASES["default"] = database_for_pooler(DATABASES["default"], FAIRSHARE_DB_POOLER)
# FAIRSHARE_NODES > 1: SECRET_KEY, FAIRSHARE_PII_KEY and a shared private storage are
# required (the voucher and ledger keys are checked with FAIRSHARE_NODES' definition).
shared_state_check(
    nodes=FAIRSHARE_NODES,
    private_backend=STORAGES["private"]["BACKEND"],
)
