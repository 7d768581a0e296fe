"""wrk (Debian's C load generator) for the benchmark's throughput steps (issue 17).

``bench/loadgen.py`` is Python and shares the two cores with the service, so it
under-reports what the service can answer; wrk costs a fraction of that CPU per request.
``ensure_wrk`` finds ``wrk`` or installs Debian's package with apt-get (as ``.ci/run``
installs Chromium) and says so; ``run_wrk`` runs one closed-loop step with
``wrk_steps.lua`` and returns its figures, including wrk's own CPU time (from
``wait4``'s resource usage of the wrk process): ``generator_cores`` = CPU s / wall s,
``generator_share`` = that / the machine's cores. wrk's latencies are closed-loop (the
next request waits for the answer, so a slow server is measured less often): the
open-model steps of ``loadgen.py`` stay the latency figures; wrk's are throughput.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import BENCH_DIR, log

LUA = BENCH_DIR / "wrk_steps.lua"


def ensure_wrk() -> tuple[str | None, str]:
    """(path of wrk or None, how it was found: "found", "installed", or why not)."""
    found = shutil.which("wrk")
    if found:
        return found, "found"
    apt = shutil.which("apt-get")
    if not apt:
        return None, "wrk is not installed and there is no apt-get to install it"
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if not sudo:
            return None, "wrk is not installed; apt-get needs root and there is no sudo"
        prefix = [sudo, "-n"]
    log("wrk not found: installing Debian's wrk with apt-get (as .ci/run installs Chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "wrk"]):
        proc = subprocess.run([*prefix, *cmd], capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            return None, f"apt-get could not install wrk: {(proc.stderr or proc.stdout)[-500:]}"
    found = shutil.which("wrk")
    if not found:
        return None, "apt-get ran but no wrk is on PATH"
    log(f"installed {found}")
    return found, "installed with apt-get"


def wrk_version(wrk: str) -> str:
    proc = subprocess.run([wrk, "--version"], capture_output=True, text=True)
    return (proc.stdout or proc.stderr).splitlines()[0] if (proc.stdout or proc.stderr) else ""


def write_registration_lines(jobs: list[dict[str, Any]], path: Path) -> Path:
    """The harness's registration jobs as ``wrk_steps.lua`` reads them (one a line)."""
    with open(path, "w", encoding="utf-8") as fh:
        for job in jobs:
            headers = job["headers"]
            fields = (job["path"], headers["Idempotency-Key"], headers["X-Forwarded-For"])
            body = job["body"]
            assert "\t" not in body and "\n" not in body and not any("\t" in f for f in fields)
            fh.write("\t".join((*fields, body)) + "\n")
    return path


def run_wrk(
    wrk: str,
    url: str,
    *,
    connections: int,
    threads: int,
    seconds: float,
    jobs_file: Path | None = None,
    timeout_s: int = 10,
) -> dict[str, Any]:
    """One closed-loop wrk step against ``url``; figures plus ``tickets`` of 2xx answers."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        out = Path(tmp) / "out.json"
        cmd = [
            wrk,
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            f"{timeout_s}s",
            "-s",
            str(LUA),
            url,
            "--",
            str(jobs_file) if jobs_file else "-",
            str(threads),
        ]
        env = {**os.environ, "BENCH_WRK_OUT": str(out)}
        with open(Path(tmp) / "stdout", "w+b") as fh:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            fh.seek(0)
            text = fh.read().decode("utf-8", "replace")
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"wrk failed ({proc.returncode}): {text[-1500:]}")
        raw = json.loads(out.read_text())
    return _figures(raw, wall=wall, cpu=usage.ru_utime + usage.ru_stime) | {
        "connections": connections,
        "threads": threads,
    }


def _figures(raw: dict[str, Any], *, wall: float, cpu: float) -> dict[str, Any]:
    span = raw["duration_us"] / 1e6
    lat = raw["latency_us"]
    socket_errors = {k: v for k, v in raw["socket_errors"].items() if v}
    errors = {f"http_{s}": n for s, n in raw["status"].items() if not 200 <= int(s) < 300}
    return {
        "requests": raw["requests"],
        "ok": raw["ok"],
        "non_2xx": raw["non_2xx"],
        "duration_s": round(span, 3),
        "ok_per_s": round(raw["ok"] / span, 1) if span else 0.0,
        "status": raw["status"],
        "errors": errors | {f"socket_{k}": v for k, v in socket_errors.items()},
        "jobs_exhausted": raw["exhausted"],
        # closed loop: not corrected for coordinated omission (see the module docstring)
        "closed_loop_p50_ms": round(lat["p50"] / 1000, 2),
        "closed_loop_p99_ms": round(lat["p99"] / 1000, 2),
        "closed_loop_max_ms": round(lat["max"] / 1000, 2),
        "generator": "wrk",
        "generator_cpu_s": round(cpu, 3),
        "generator_wall_s": round(wall, 3),
        "generator_cores": round(cpu / wall, 3) if wall else None,
        "generator_share": round(cpu / wall / (os.cpu_count() or 1), 3) if wall else None,
        "tickets": raw["tickets"],
    }
