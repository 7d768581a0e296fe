"""``make bench CLUSTER=1``: the registration steps through `make cluster`'s balancer.

``ClusterService`` stands in for ``harness.Service``: ``scripts/cluster.py`` starts the
nodes (PgBouncer in transaction pooling, HAProxy, Redis) on the bench's already seeded
PostgreSQL database, ``port`` is HAProxy's (the load generator's target), and the CPU
and worker figures are those of every node's processes. The nodes count the load
generator and HAProxy as two proxies (``FAIRSHARE_TRUSTED_PROXY_HOPS=2``), so the
per-resident addresses the jobs carry in ``X-Forwarded-For`` still apply.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness import ROOT, Service

SCRIPT = ROOT / "scripts" / "cluster.py"


class ClusterService(Service):
    """``url`` and ``cpu_seconds`` are ``Service``'s; the workers are every node's."""

    def __init__(self, bench: Any, nodes: int = 2) -> None:
        self.run_dir: Path = bench.data_dir / "cluster"
        super().__init__(
            port=0, workers=bench.args.workers, env=bench.env, logfile=self.run_dir / "bench.log"
        )
        self.nodes = nodes
        bench.result["cluster"] = f"{nodes} nodes behind HAProxy, PgBouncer (transaction)"
        self.node_pids: list[int] = []

    def _script(self, *args: str) -> None:
        subprocess.run([sys.executable, str(SCRIPT), *args], env=self.env, check=True)

    def start(self, timeout: float = 60.0) -> None:
        passed = ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "FAIRSHARE_DEBUG")
        self._script(
            "start",
            "--run-dir",
            str(self.run_dir),
            "--nodes",
            str(self.nodes),
            "--workers",
            str(max(1, self.workers // self.nodes)),
            "--port",
            "0",
            "--database-url",
            self.env["DATABASE_URL"],
            "--households",
            "0",
            "--pool-size",
            "20",
            "--env=FAIRSHARE_TRUSTED_PROXY_HOPS=2",
            *(f"--env={k}={self.env[k]}" for k in passed if self.env.get(k)),
        )
        state = json.loads((self.run_dir / "state.json").read_text())
        self.port = int(state["lb_port"])
        self.node_pids = [int(n["pid"]) for n in state["nodes"]]

    def worker_pids(self) -> list[int]:
        found: list[int] = []
        for pid in self.node_pids:
            out = subprocess.run(
                ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
            ).stdout
            found += [int(p) for p in out.split()]
        return found

    def stop(self) -> None:
        self._script("stop", "--run-dir", str(self.run_dir))
