"""A private, throw-away PostgreSQL server for fault tests (never the shared one).

``PrivateCluster`` runs ``initdb`` into a temporary folder and ``pg_ctl`` on its own
port with its Unix socket in that folder, so a test can stop and start it while
other people's tests keep using the server on 5432. As root it runs the server as
the ``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def _free_port_below_ephemeral() -> int:
    """A loopback port nobody listens on, below the ephemeral range (32768 and up here):
    a port in that range can be held for a while by anyone's outgoing connection."""
    start = 20000 + os.getpid() % 10000
    for offset in range(12000):
        port = 20000 + (start - 20000 + offset) % 12000
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port between 20000 and 32000")


PRIVATE_PG_PORT = int(os.environ.get("FAIRSHARE_FAULTS_PG_PORT", "0"))  # 0: pick a free one


def pg_bin_dir() -> Path | None:
    base = Path("/usr/lib/postgresql")
    if base.is_dir():
        versions = sorted(
            (p for p in base.iterdir() if (p / "bin" / "initdb").exists()),
            key=lambda p: int(p.name) if p.name.isdigit() else 0,
        )
        if versions:
            return versions[-1] / "bin"
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PrivateCluster:
    def __init__(self, root: Path, *, port: int = PRIVATE_PG_PORT) -> None:
        bindir = pg_bin_dir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.bin = bindir
        self.root = root
        self.data = root / "pgdata"
        self.port = port or _free_port_below_ephemeral()
        self.as_postgres = os.geteuid() == 0
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/fairshare_faults"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def init(self) -> PrivateCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
            self.root.chmod(0o700)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self.start()
        self._run(
            str(self.bin / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "fairshare_faults",
        )
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        # The port may still be held for a moment (e.g. a fixed FAIRSHARE_FAULTS_PG_PORT
        # in the ephemeral range): retry for a while rather than fail.
        for attempt in range(20):
            try:
                self._start(options)
                return
            except RuntimeError as exc:
                log = (self.root / "log").read_text(errors="replace")[-3000:]
                if "Address already in use" not in log.split("starting PostgreSQL")[-1]:
                    raise RuntimeError(f"{exc}\nserver log:\n{log}") from None
                if attempt == 19:
                    raise RuntimeError(f"port {self.port} stays busy:\n{log}") from None
                time.sleep(0.5)

    def _start(self, options: str) -> None:
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        result = subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            check=False,
            user="postgres" if self.as_postgres else None,
        )
        return result.returncode == 0

    def destroy(self) -> None:
        try:
            if self.data.exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        except RuntimeError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("private PostgreSQL did not become ready")
