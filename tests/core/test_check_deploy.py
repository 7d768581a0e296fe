"""``fairshare check --deploy`` is clean under the production settings of
deploy/env.example (docs/deploy.md), with test values for the secrets and paths."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / "deploy" / "env.example"


def production_env(tmp_path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            assert re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"not KEY=value: {line!r}"
            values[key] = value
    values |= {
        "SECRET_KEY": secrets.token_urlsafe(50)[:50],
        "FAIRSHARE_VOUCHER_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
        "FAIRSHARE_LEDGER_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
        "FAIRSHARE_DATA_DIR": str(tmp_path / "var"),
        "FAIRSHARE_BACKUP_DIR": str(tmp_path / "backups"),
    }
    # The test database (PostgreSQL pass) or SQLite in the data folder; no connection made.
    if os.environ.get("DATABASE_URL"):
        values["DATABASE_URL"] = os.environ["DATABASE_URL"]
    else:
        del values["DATABASE_URL"]
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "LANG")}
    return base | values


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fairshare.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_env_example_names_the_production_settings():
    text = ENV_EXAMPLE.read_text("utf-8")
    for line in (
        "FAIRSHARE_SECURE=true",
        "FAIRSHARE_TRUSTED_PROXY_HOPS=1",
        "FAIRSHARE_DEBUG=false",
    ):
        assert f"\n{line}\n" in text
    for key in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "FAIRSHARE_VOUCHER_KEY",
        "FAIRSHARE_LEDGER_KEY",
        "FAIRSHARE_NODES",
    ):
        assert f"\n{key}=" in text
    assert "FAIRSHARE_ALLOWED_HOSTS=" in text


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    result = run_check(production_env(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output


def test_check_deploy_warns_without_the_secure_setting(tmp_path):
    # Negative control: the same environment without FAIRSHARE_SECURE fails the check.
    env = production_env(tmp_path)
    env["FAIRSHARE_SECURE"] = "false"
    result = run_check(env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr
