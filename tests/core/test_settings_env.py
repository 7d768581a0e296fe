import os
import subprocess
import sys
from pathlib import Path

import pytest

from fairshare.env import EnvError, env_bool, env_int, parse_database_url


def test_env_bool_strict():
    assert env_bool("X", environ={"X": "yes"}) is True
    assert env_bool("X", True, environ={}) is True
    with pytest.raises(EnvError, match=r"^X: "):
        env_bool("X", environ={"X": "maybe"})


def test_env_int_bounds():
    assert env_int("N", 5, environ={}) == 5
    with pytest.raises(EnvError, match="N: must be at least 1"):
        env_int("N", 5, minimum=1, environ={"N": "0"})
    with pytest.raises(EnvError, match="whole number"):
        env_int("N", 5, environ={"N": "five"})


def test_database_url_default_is_sqlite_wal_immediate(tmp_path):
    cfg = parse_database_url("", data_dir=tmp_path)
    assert cfg["ENGINE"] == "fairshare.core.sqlite_backend"  # Django's, conversion cached
    assert cfg["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in cfg["OPTIONS"]["init_command"]


def test_database_url_postgres():
    cfg = parse_database_url("postgres://u@h:5432/db", data_dir=Path("/tmp"))
    assert cfg["ENGINE"] == "django.db.backends.postgresql" and cfg["NAME"] == "db"


@pytest.mark.parametrize("url", ["mysql://x@y/z", "postgres://u@h:5432/", "sqlite://"])
def test_bad_database_url_is_rejected(url):
    with pytest.raises(EnvError, match=r"^DATABASE_URL: "):
        parse_database_url(url, data_dir=Path("/tmp"))


def test_cli_bad_database_url_prints_one_line(tmp_path):
    env = {**os.environ, "DATABASE_URL": "mysql://nope", "FAIRSHARE_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "fairshare.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr
