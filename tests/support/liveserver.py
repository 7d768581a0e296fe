"""A real server process for end-to-end and fault tests.

``prepare_data`` migrates and seeds a fresh data folder (SQLite by default, or the
``DATABASE_URL`` given); ``LiveServer`` runs ``fairshare serve`` (gunicorn) in its
own process group so a test can stop it politely or kill -9 master and workers at
once. Everything runs with the virtualenv's ``fairshare`` next to the running Python.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
FAIRSHARE = str(BIN / "fairshare")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(data_dir: Path, database_url: str = "", **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "DJANGO_SETTINGS")) and k != "DATABASE_URL"
    }
    env.update(
        FAIRSHARE_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        FAIRSHARE_SMS_BACKEND=extra.pop("FAIRSHARE_SMS_BACKEND", "file"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [FAIRSHARE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"fairshare {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def prepare_data(env: dict[str, str], *, households: int = 600) -> None:
    run_cli(env, "migrate", "--noinput", "-v0")
    run_cli(env, "createcachetable", "-v0")
    run_cli(env, "seed_demo", "--households", str(households), "--quiet")


class LiveServer:
    """``fairshare serve --no-outbox`` on a free loopback port."""

    def __init__(self, env: dict[str, str], *, workers: int = 2, port: int | None = None) -> None:
        self.env = env
        self.workers = workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(env["FAIRSHARE_DATA_DIR"]) / f"server-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> LiveServer:
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process
        self.proc = subprocess.Popen(
            [
                FAIRSHARE,
                "serve",
                "--no-outbox",
                "--workers",
                str(self.workers),
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: kill -9 reaches every worker
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                up = http("GET", self.url + "/ping", timeout=2)[0] == 200
                if up and len(self.worker_pids()) >= self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout} s:\n{self.log()}")

    def worker_pids(self) -> set[int]:
        """The gunicorn workers: the master's child processes (Linux /proc)."""
        found: set[int] = set()
        if self.proc is None:
            return found
        try:
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                found.update(int(c) for c in (task / "children").read_text().split())
        except OSError:
            pass
        return found

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def kill9(self) -> None:
        """SIGKILL the gunicorn master and all its workers at once."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.proc = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def http(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP call: (status, headers, body). HTTP errors are answers, not exceptions."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def api_token(base_url: str, username: str, password: str = "demo") -> str:
    status, _, body = http(
        "POST", base_url + "/api/v1/auth/token", body={"username": username, "password": password}
    )
    assert status == 200, (status, body[:300])
    return json.loads(body)["token"]


def openapi_paths(base_url: str) -> dict[str, Any]:
    status, _, body = http("GET", base_url + "/api/v1/openapi.json")
    assert status == 200
    return json.loads(body)["paths"]
