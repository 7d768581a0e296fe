"""`make bench-smoke` in a subprocess against SQLite: the harness runs end to end and the
invariant checks pass. Never asserts a timing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    """A free port P in the bench range with P+1 (the static server) and P+2 (the bare
    Django app) free too."""
    for port in range(8112, 8121, 3):
        try:
            for p in (port, port + 1, port + 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    pytest.fail("no three free ports in 8112-8122")


def test_bench_smoke_runs_and_invariants_hold(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env["DATABASE_URL"] = ""
    env["FAIRSHARE_DATA_DIR"] = str(tmp_path / "data")
    results = tmp_path / "results"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--smoke",
            "--data-dir",
            str(tmp_path / "data"),
            "--results-dir",
            str(results),
            "--port",
            str(_free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    [result_file] = results.glob("*.json")
    result = json.loads(result_file.read_text())
    assert result["mode"] == "smoke"
    assert result["database"] == "sqlite"
    assert "error" not in result
    assert result["invariant_failures"] == []
    # The baselines produced real numbers.
    assert result["steps"]["ping_closed"]["ok"] > 0
    assert result["steps"]["raw_insert"]["rows"] > 0
    # The raw-SQL floor is served by the benchmark's own URL configuration (bench/benchfloor/).
    assert result["steps"]["registration_ceilings"]["raw_sql_floor"]["ok"] > 0
    # Issue 17: wrk drove the bare Django app's views and Fairshare's, each registration a
    # new one, and each figure has its ratio to the bare app and wrk's own CPU.
    wrk = result["steps"]["wrk"]
    assert "not_available" not in wrk, wrk
    for key in ("bare_trivial", "ping", "bare_raw_sql", "floor", "full"):
        assert wrk[key]["ok"] > 0, key
        assert wrk[key]["generator"] == "wrk" and wrk[key]["generator_cpu_s"] >= 0, key
    for key in ("ping", "floor", "full"):
        assert wrk[key]["ratio_to_baseline"] is not None, key
    assert wrk["full"]["status"].keys() == {"201"}, wrk["full"]["status"]
    assert result["invariants"]["after_wrk"]["acknowledged_present"]["ok"]
    assert "bare Django app" in proc.stdout
    # Every step ran and was checked.
    for step, stage in (
        ("registration_rush", "after_rush"),
        ("registration_ceilings", "after_ceilings"),
        ("wrk", "after_wrk"),
        ("allocation", "after_allocation"),
        ("redemption", "after_redemption"),
    ):
        assert "not_available" not in result["steps"][step], step
        assert result["invariants"][stage], f"{step} ran without invariant checks"
    assert "invariants:" in proc.stdout
