"""`make cluster` in a test: two app nodes behind HAProxy, PgBouncer (transaction pooling)
in front of PostgreSQL, and Redis, started by ``scripts/cluster.py`` itself.

Runs in the PostgreSQL pass of ``make test`` (marker ``postgres``). In CI a missing
HAProxy, PgBouncer or Redis FAILS the test (``.ci/run`` installs the first two); elsewhere
the test is skipped with a reason that says it did not run.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cluster.py"
REDIS_URL = "redis://127.0.0.1:6379/11"  # a database of its own: rate-limit counters
HOUSEHOLDS = 150
# The burst comes from one client address through the balancer: generous address limits.
NODE_ENV = (
    "FAIRSHARE_RL_REGISTER_IP=100000",
    "FAIRSHARE_RL_STATUS_IP=100000",
    "FAIRSHARE_RL_SMS_IP=100000",
)


def _binary(name: str) -> bool:
    return any(os.access(p, os.X_OK) for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}"))


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def require_tools() -> None:
    missing = [name for name in ("haproxy", "pgbouncer") if not _binary(name)]
    if not _redis_up():
        missing.append("Redis on 127.0.0.1:6379")
    if not missing:
        return
    what = ", ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(f"the cluster test needs {what} (.ci/run installs haproxy and pgbouncer)")
    pytest.skip(f"!! CLUSTER TEST NOT RUN: {what} missing (apt-get install haproxy pgbouncer)")


def _maintenance_url(settings_dict: dict[str, Any], name: str) -> str:
    user = settings_dict.get("USER") or "postgres"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{name}"


def run_script(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The running cluster's state.json (plus ``direct_url``: the database, not pooled).

    Its database is a copy of the migrated test database (``<test db>_cluster``), seeded
    by the script, so the test spends no time on migrations."""
    require_tools()
    from django.db import connection, connections

    template = connection.settings_dict["NAME"]
    name = f"{template}_cluster"
    with django_db_blocker.unblock():
        connections.close_all()  # CREATE DATABASE … TEMPLATE needs it unused
    gc.collect()  # connections of finished threads of earlier tests close with their objects
    with psycopg.connect(_maintenance_url(connection.settings_dict, "postgres")) as conn:
        conn.execute(  # and any still left (this process's, from earlier tests) are ended
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [template],
        )
    direct_url = _maintenance_url(connection.settings_dict, name)
    run_dir = tmp_path_factory.mktemp("cluster")
    args = ["--run-dir", str(run_dir), "--database-url", direct_url, "--port", "0"]
    started = run_script(
        "start",
        *args,
        "--fresh",
        "--template",
        template,
        "--households",
        str(HOUSEHOLDS),
        "--redis-url",
        REDIS_URL,
        *(f"--env={pair}" for pair in NODE_ENV),
    )
    try:
        assert started.returncode == 0, _logs(run_dir, started)
        state = json.loads((run_dir / "state.json").read_text())
        yield {**state, "direct_url": direct_url, "logs": lambda: _logs(run_dir, started)}
    finally:
        run_script("stop", "--run-dir", str(run_dir), timeout=60)
        with psycopg.connect(_maintenance_url(connection.settings_dict, "postgres")) as conn:
            conn.autocommit = True
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _logs(run_dir: Path, proc: subprocess.CompletedProcess[str]) -> str:
    parts = [proc.stdout[-2000:], proc.stderr[-3000:]]
    for path in sorted(run_dir.glob("*.log")):
        parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-1500:]}")
    return "\n".join(parts)
