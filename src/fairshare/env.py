"""Strict parsing of environment variables.

Every setting the service reads from the environment goes through one of these
helpers, so a bad value stops start-up with one line that names the variable.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(ImproperlyConfigured):
    """A variable is set to a value the service cannot use."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(f"{name}: {message}")


def env_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(name, default).strip()


def env_bool(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    raw = env_str(name, "", environ)
    if raw == "":
        return default
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(name, f"expected one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    raw = env_str(name, "", environ)
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EnvError(name, f"expected a whole number; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise EnvError(name, f"must be at least {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise EnvError(name, f"must be at most {maximum}; got {value}")
    return value


def env_key32(name: str, environ: Mapping[str, str] | None = None) -> str:
    """A key given as base64url (padding optional) of exactly 32 raw bytes, or ""."""
    raw = env_str(name, "", environ)
    if raw == "":
        return ""
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != 32 or not raw.replace("-", "").replace("_", "").rstrip("=").isalnum():
        raise EnvError(name, "expected base64url of 32 raw bytes")
    return raw


def env_path(name: str, default: Path, environ: Mapping[str, str] | None = None) -> Path:
    raw = env_str(name, "", environ)
    return Path(raw).expanduser().resolve() if raw else default.resolve()


def parse_database_url(url: str, *, data_dir: Path) -> dict[str, Any]:
    """Turn ``DATABASE_URL`` into a Django DATABASES entry.

    Empty means the embedded default: SQLite in the data folder, in WAL mode,
    with immediate transactions (so a write transaction takes the write lock at
    BEGIN, which is what makes our counters safe without row locks) and a busy
    timeout.
    """
    import dj_database_url

    if not url:
        return sqlite_config(data_dir / "fairshare.sqlite3")
    if url.startswith("sqlite"):
        try:
            parsed = dj_database_url.parse(url)
        except Exception as exc:  # the library raises several types
            raise EnvError("DATABASE_URL", f"cannot parse {url!r}: {exc}") from None
        name = parsed.get("NAME") or ""
        if not name or name == ":memory:":
            raise EnvError("DATABASE_URL", "SQLite needs a file path, e.g. sqlite:////abs/path.db")
        return sqlite_config(Path(name))
    scheme = url.split(":", 1)[0]
    if scheme not in {"postgres", "postgresql", "pgsql"}:
        raise EnvError(
            "DATABASE_URL",
            f"unsupported scheme {scheme!r}; use postgres://user@host:port/db or sqlite:////path",
        )
    try:
        parsed = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:
        raise EnvError("DATABASE_URL", f"cannot parse {url!r}: {exc}") from None
    if not parsed.get("NAME"):
        raise EnvError("DATABASE_URL", "the URL names no database (…/dbname)")
    parsed.setdefault("OPTIONS", {})
    # Statement and lock timeouts are set per transaction by fairshare.core.locking.
    parsed["OPTIONS"].setdefault("connect_timeout", 5)
    parsed["ENGINE"] = "django.db.backends.postgresql"
    return dict(parsed)


def sqlite_config(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "fairshare.core.sqlite_backend",
        "NAME": str(path),
        # Keep the connection (and its PRAGMAs) across requests of a worker.
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=FULL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        },
        "TEST": {"NAME": str(path.with_name(path.stem + "-test.sqlite3"))},
    }


PRIVATE_STORAGES = ("local", "database", "s3")


def private_storage_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``STORAGES["private"]`` from ``FAIRSHARE_PRIVATE_STORAGE`` (``core/filestore.py``).

    ``s3`` needs ``FAIRSHARE_S3_BUCKET``; ``FAIRSHARE_S3_ENDPOINT_URL`` (an S3-compatible
    store: MinIO, Ceph, a cloud's OSS/COS S3 endpoint), ``FAIRSHARE_S3_REGION``,
    ``FAIRSHARE_S3_ACCESS_KEY_ID`` and ``FAIRSHARE_S3_SECRET_ACCESS_KEY`` are optional
    (boto3's own credential chain applies without them). Objects are private; no URL is
    ever handed out (``querystring_auth`` off, files go through scoped views).
    """
    kind = env_str("FAIRSHARE_PRIVATE_STORAGE", "local", environ).lower()
    if kind not in PRIVATE_STORAGES:
        raise EnvError(
            "FAIRSHARE_PRIVATE_STORAGE",
            f"expected one of {', '.join(PRIVATE_STORAGES)}; got {kind!r}",
        )
    if kind == "local":
        return {"BACKEND": "fairshare.core.filestore.LocalPrivateStorage"}
    if kind == "database":
        return {"BACKEND": "fairshare.core.filestore.DatabaseStorage"}
    bucket = env_str("FAIRSHARE_S3_BUCKET", "", environ)
    if not bucket:
        raise EnvError("FAIRSHARE_S3_BUCKET", "required when FAIRSHARE_PRIVATE_STORAGE=s3")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "default_acl": "private",
        "querystring_auth": False,
        "file_overwrite": False,
        "location": env_str("FAIRSHARE_S3_PREFIX", "private", environ),
    }
    for option, name in (
        ("endpoint_url", "FAIRSHARE_S3_ENDPOINT_URL"),
        ("region_name", "FAIRSHARE_S3_REGION"),
        ("access_key", "FAIRSHARE_S3_ACCESS_KEY_ID"),
        ("secret_key", "FAIRSHARE_S3_SECRET_ACCESS_KEY"),
    ):
        value = env_str(name, "", environ)
        if value:
            options[option] = value
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


# --- several nodes (issue 17): a transaction pooler in front of PostgreSQL, shared state ---
DB_POOLERS = ("none", "session", "transaction")


def db_pooler(environ: Mapping[str, str] | None = None) -> str:
    """``FAIRSHARE_DB_POOLER``: what stands between the nodes and PostgreSQL.

    ``none`` (default) or ``session`` (PgBouncer's session pooling: one server connection
    per client connection, so nothing changes) or ``transaction`` (PgBouncer's
    transaction pooling: consecutive transactions of one client may run on different
    server connections, so nothing may outlive a transaction; ``database_for_pooler``).
    """
    kind = env_str("FAIRSHARE_DB_POOLER", "none", environ).lower() or "none"
    if kind not in DB_POOLERS:
        raise EnvError(
            "FAIRSHARE_DB_POOLER", f"expected one of {', '.join(DB_POOLERS)}; got {kind!r}"
        )
    return kind


def database_for_pooler(database: dict[str, Any], pooler: str) -> dict[str, Any]:
    """The DATABASES entry adapted to ``pooler``. Under transaction pooling a cursor or
    a prepared statement outlives its transaction only on the server connection that made
    it, which the next transaction may not get (Debian's PgBouncer 1.18 keeps neither
    across transactions): no server-side cursors (``QuerySet.iterator`` then reads in one
    go) and no automatic prepared statements in psycopg (Django's default today; pinned
    here). Session settings are the other casualty: the code sets per-transaction ones
    with ``SET LOCAL`` (core/locking.py)."""
    if pooler != "transaction":
        return database
    if database.get("ENGINE") != "django.db.backends.postgresql":
        raise EnvError("FAIRSHARE_DB_POOLER", "transaction pooling needs a PostgreSQL DATABASE_URL")
    options = {**database.get("OPTIONS", {}), "prepare_threshold": None}
    return {**database, "DISABLE_SERVER_SIDE_CURSORS": True, "OPTIONS": options}


def shared_state_check(
    *, nodes: int, private_backend: str, environ: Mapping[str, str] | None = None
) -> None:
    """With ``nodes`` > 1 nothing a request needs may be made or kept by one node alone:
    the session and idempotency key (SECRET_KEY), the ID-number hash key
    (FAIRSHARE_PII_KEY: the same ID must hash the same on every node, or a household
    registered twice through two nodes goes unnoticed) and the private uploads."""
    if nodes <= 1:
        return
    why = f"required when FAIRSHARE_NODES is {nodes} (every node must use the same one"
    for name in ("SECRET_KEY", "FAIRSHARE_PII_KEY"):
        if not env_str(name, "", environ):
            raise EnvError(name, f"{why}; a key generated per node differs between nodes)")
    if private_backend.endswith("LocalPrivateStorage"):
        raise EnvError(
            "FAIRSHARE_PRIVATE_STORAGE",
            f"must be database or s3 when FAIRSHARE_NODES is {nodes} (a photo uploaded "
            "through one node must be readable through the others)",
        )
