"""Process plumbing for the benchmark: the service, HTTP calls, the load generator, py-spy."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
FAIRSHARE = str(VENV_BIN / "fairshare")
LOADGEN = str(BENCH_DIR / "loadgen.py")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def fairshare(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([FAIRSHARE, *args], env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"fairshare {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def redis_reachable(url: str) -> str:
    """``url`` when a Redis answers PING there, "" otherwise. Nothing is flushed: the
    rate-limit keys are hashed with the secret key of the run's fresh data folder, so
    counters of earlier runs (or other users of that Redis database) never collide."""
    if not url:
        return ""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        client.ping()
        client.close()
    except Exception:
        return ""
    return url


class Service:
    """``fairshare serve --workers N --no-outbox`` on 127.0.0.1:port (debug off), or the
    server ``argv`` names (the bare app of ``bench/bare/``), healthy when ``health_path``
    answers 200 and every worker is up."""

    def __init__(
        self,
        *,
        port: int,
        workers: int,
        env: dict[str, str],
        logfile: Path,
        extra: tuple[str, ...] = (),
        argv: list[str] | None = None,
        health_path: str = "/healthz",
    ) -> None:
        self.port, self.workers, self.env, self.logfile = port, workers, env, logfile
        self.extra = extra
        self.argv = argv
        self.health_path = health_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        env = {**self.env, "FAIRSHARE_DEBUG": "false"}
        fh = open(self.logfile, "ab")  # noqa: SIM115 - lives as long as the server
        argv = self.argv or [
            FAIRSHARE,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-outbox",
            *self.extra,
        ]
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited ({self.proc.returncode}); see {self.logfile}")
            try:
                status, _ = http("GET", self.url(self.health_path), timeout=2)
                # every worker should be up before measuring
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"{self.health_path} did not answer within {timeout} s; see {self.logfile}"
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        return [int(p) for p in out.split()]

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the service's worker processes."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, IndexError, ValueError):
                continue
        return total / tick

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # gunicorn master stops its workers
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def http(
    method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 30
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def run_loadgen(port: int, *args: str, timeout: float = 900) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    try:
        proc = subprocess.run(
            [sys.executable, LOADGEN, "--port", str(port), "--out", out, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"loadgen failed: {proc.stderr[-2000:]}")
        return json.loads(Path(out).read_text())
    finally:
        Path(out).unlink(missing_ok=True)


def write_jobs(jobs: list[dict[str, Any]], path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for job in jobs:
            fh.write(json.dumps(job, ensure_ascii=False) + "\n")
    return path


class StaticServer:
    """The load generator's own minimal HTTP server (for the generator's ceiling)."""

    def __init__(self, port: int, *, close: bool) -> None:
        args = [sys.executable, LOADGEN, "--serve-static", "--port", str(port)]
        self.proc = subprocess.Popen(
            args + (["--close"] if close else []), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if b"static server" not in line:
            raise RuntimeError(f"static server did not start: {line!r}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Profiler:
    """py-spy on one gunicorn worker while a step runs; summarizes the hottest frames."""

    def __init__(self, pid: int, out_dir: Path, name: str) -> None:
        self.available = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
        self.raw = out_dir / f"profile-{name}.txt"
        self.proc = None
        if self.available:
            self.proc = subprocess.Popen(
                [
                    self.available,
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(self.raw),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def finish(self, top: int = 15) -> dict[str, Any] | None:
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        if not self.raw.exists():
            return None
        return summarize_collapsed(self.raw.read_text(), top=top) | {"file": self.raw.name}


def _frame_key(frame: str) -> str:
    """``func (path/to/file.py:123)`` -> ``func (to/file.py)``."""
    m = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not m:
        return frame
    return f"{m.group(1)} ({'/'.join(m.group(2).split('/')[-2:])})"


def summarize_collapsed(text: str, *, top: int) -> dict[str, Any]:
    """Inclusive and self sample shares per function from py-spy's collapsed stacks."""
    total = 0
    incl: dict[str, int] = {}
    self_: dict[str, int] = {}
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_key(f) for f in stack.split(";")]
        for key in set(frames):
            incl[key] = incl.get(key, 0) + count
        leaf = frames[-1]
        self_[leaf] = self_.get(leaf, 0) + count
    if not total:
        return {"samples": 0}

    def ranked(d: dict[str, int]) -> list[list[Any]]:
        return [
            [k, round(100 * v / total, 1)]
            for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:top]
        ]

    return {"samples": total, "inclusive_pct": ranked(incl), "self_pct": ranked(self_)}
