"""Minimal settings: no middleware, no apps; the run's own ``DATABASES`` (same parser, same
``DATABASE_URL`` and data folder as the service, so the same engine, options and PRAGMAs)."""

import os
from pathlib import Path

from fairshare.env import parse_database_url

DEBUG = False
# Signs nothing: no sessions, no CSRF, no messages.
SECRET_KEY = "bench-bare-app-not-a-secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bare.urls"
WSGI_APPLICATION = "bare.wsgi.application"
DATABASES = {
    "default": parse_database_url(
        os.environ.get("DATABASE_URL", "").strip(),
        data_dir=Path(os.environ["FAIRSHARE_DATA_DIR"]),
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
USE_TZ = True
TIME_ZONE = os.environ.get("FAIRSHARE_TIME_ZONE", "Asia/Shanghai").strip() or "Asia/Shanghai"
USE_I18N = False
LOGGING_CONFIG = None
