"""The service's signing keys (core/edkeys.py; issue 18): ``FAIRSHARE_NODES`` > 1 needs
the voucher and ledger keys from the environment (one node's generated key is its own),
and a malformed key or node count stops start-up with one line naming the variable."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from fairshare.env import EnvError, env_key32


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _start(tmp_path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FAIRSHARE_VOUCHER_KEY", "FAIRSHARE_LEDGER_KEY", "FAIRSHARE_NODES")
    }
    env |= {"FAIRSHARE_DATA_DIR": str(tmp_path), **variables}
    return subprocess.run(
        [sys.executable, "-m", "fairshare.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_several_nodes_without_the_ledger_key_refuse_to_start(tmp_path):
    line = _refusal(_start(tmp_path, FAIRSHARE_NODES="2", FAIRSHARE_VOUCHER_KEY=_key()))
    assert "FAIRSHARE_LEDGER_KEY" in line and "FAIRSHARE_NODES" in line
    assert not (tmp_path / "ledger_signing_key").exists()


def test_several_nodes_without_the_voucher_key_refuse_to_start(tmp_path):
    line = _refusal(_start(tmp_path, FAIRSHARE_NODES="3", FAIRSHARE_LEDGER_KEY=_key()))
    assert "FAIRSHARE_VOUCHER_KEY" in line


def test_several_nodes_with_both_keys_start_and_one_node_needs_none(tmp_path):
    both = _start(
        tmp_path,
        FAIRSHARE_NODES="2",
        FAIRSHARE_VOUCHER_KEY=_key(),
        FAIRSHARE_LEDGER_KEY=_key(),
        # what several nodes need besides the two keys (tests/core/test_several_nodes.py)
        SECRET_KEY="test-secret-key-shared-by-every-node-0123456789",
        FAIRSHARE_PII_KEY="test-pii-key-shared-by-every-node",
        FAIRSHARE_PRIVATE_STORAGE="database",
    )
    assert both.returncode == 0, both.stderr
    assert _start(tmp_path).returncode == 0  # one node: the keys may be generated


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"FAIRSHARE_NODES": "0"}, "FAIRSHARE_NODES: must be at least 1"),
        ({"FAIRSHARE_NODES": "two"}, "FAIRSHARE_NODES: expected a whole number"),
        ({"FAIRSHARE_LEDGER_KEY": "CHANGE-ME"}, "FAIRSHARE_LEDGER_KEY: expected base64url"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(tmp_path, variables, named):
    assert named in _refusal(_start(tmp_path, **variables))


def test_env_key32_is_strict():
    key = _key()
    assert env_key32("K", environ={"K": key}) == key
    assert env_key32("K", environ={}) == ""
    for bad in ("abc", key[:-2], key + "AAAA", "!" * 43):
        with pytest.raises(EnvError, match=r"^K: expected base64url of 32 raw bytes"):
            env_key32("K", environ={"K": bad})
