"""Several app nodes (issue 17): PgBouncer transaction pooling compatibility and the state
that must not be per node (``FAIRSHARE_DB_POOLER``, ``FAIRSHARE_NODES``; fairshare/env.py).
The nodes themselves run in tests/cluster/."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from fairshare.core.locking import write_transaction
from fairshare.env import (
    EnvError,
    database_for_pooler,
    db_pooler,
    parse_database_url,
    shared_state_check,
)

LOCAL = "fairshare.core.filestore.LocalPrivateStorage"
DATABASE = "fairshare.core.filestore.DatabaseStorage"


def test_pooler_parsing_is_strict():
    assert db_pooler(environ={}) == "none"
    assert db_pooler(environ={"FAIRSHARE_DB_POOLER": " Transaction "}) == "transaction"
    with pytest.raises(EnvError, match=r"^FAIRSHARE_DB_POOLER: expected one of"):
        db_pooler(environ={"FAIRSHARE_DB_POOLER": "statement"})


def test_transaction_pooling_turns_off_server_side_cursors_and_prepared_statements():
    pg = parse_database_url("postgres://u@h:6432/db", data_dir=Path("/tmp"))
    pooled = database_for_pooler(pg, "transaction")
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert (
        "prepare_threshold" in pooled["OPTIONS"] and pooled["OPTIONS"]["prepare_threshold"] is None
    )
    assert pooled["OPTIONS"]["connect_timeout"] == 5  # the rest is kept
    # Negative control: without a pooler (or with session pooling) nothing changes.
    assert database_for_pooler(pg, "none") == pg == database_for_pooler(pg, "session")
    assert not pg.get("DISABLE_SERVER_SIDE_CURSORS") and "prepare_threshold" not in pg["OPTIONS"]


def test_transaction_pooling_needs_postgres(tmp_path):
    sqlite = parse_database_url("", data_dir=tmp_path)
    with pytest.raises(EnvError, match="FAIRSHARE_DB_POOLER: transaction pooling needs"):
        database_for_pooler(sqlite, "transaction")


def _keys() -> dict[str, str]:
    return {"SECRET_KEY": secrets.token_urlsafe(50), "FAIRSHARE_PII_KEY": secrets.token_hex(32)}


def test_one_node_may_keep_its_own_keys_and_folder():
    shared_state_check(nodes=1, private_backend=LOCAL, environ={})


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FAIRSHARE_PII_KEY"])
def test_several_nodes_need_the_shared_keys(missing):
    environ = {k: v for k, v in _keys().items() if k != missing}
    with pytest.raises(EnvError, match=rf"^{missing}: required when FAIRSHARE_NODES is 2"):
        shared_state_check(nodes=2, private_backend=DATABASE, environ=environ)


def test_several_nodes_need_a_shared_private_storage():
    with pytest.raises(EnvError, match=r"^FAIRSHARE_PRIVATE_STORAGE: must be database or s3"):
        shared_state_check(nodes=3, private_backend=LOCAL, environ=_keys())
    shared_state_check(nodes=3, private_backend=DATABASE, environ=_keys())


def _check(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    for name in ("SECRET_KEY", "FAIRSHARE_PII_KEY", "FAIRSHARE_PRIVATE_STORAGE", "DATABASE_URL"):
        env.pop(name, None)
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    env |= {  # the signing keys of FAIRSHARE_NODES > 1 (checked elsewhere), always given
        "FAIRSHARE_VOUCHER_KEY": key,
        "FAIRSHARE_LEDGER_KEY": key,
        "FAIRSHARE_DATA_DIR": str(tmp_path),
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-m", "fairshare.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_node_of_several_without_secret_key_refuses_to_start_with_one_line(tmp_path):
    result = _check(tmp_path, FAIRSHARE_NODES="2", FAIRSHARE_PRIVATE_STORAGE="database")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY: required when FAIRSHARE_NODES is 2" in lines[0]


def test_a_node_of_several_with_everything_shared_starts(tmp_path):
    shared = {**_keys(), "FAIRSHARE_PRIVATE_STORAGE": "database", "FAIRSHARE_NODES": "2"}
    assert _check(tmp_path, **shared).returncode == 0
    local = {**shared, "FAIRSHARE_PRIVATE_STORAGE": "local"}
    refused = _check(tmp_path, **local)
    assert refused.returncode == 2 and "FAIRSHARE_PRIVATE_STORAGE" in refused.stderr


def _lock_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        return str(cursor.fetchone()[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_behind_a_transaction_pooler_the_lock_timeout_ends_with_its_transaction(settings):
    settings.LOCK_TIMEOUT_MS = 1234
    settings.FAIRSHARE_DB_POOLER = "transaction"
    connection.close()  # a fresh session: nothing set by an earlier test
    default = _lock_timeout()
    for _ in range(2):
        with write_transaction():
            assert _lock_timeout() == "1234ms"  # set in every transaction
        assert _lock_timeout() == default  # SET LOCAL: nothing left for the next client
    # Negative control: without a pooler the session keeps it (one round trip less).
    settings.FAIRSHARE_DB_POOLER = "none"
    with write_transaction():
        pass
    assert _lock_timeout() == "1234ms"
    connection.close()
