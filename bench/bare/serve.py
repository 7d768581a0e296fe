"""Serve the bare app with gunicorn configured as ``fairshare serve`` configures it.

    python bench/bare/serve.py --port 8112 --workers 4 [--worker-class gthread] [--threads 4]

Same worker class, workers, threads, keep-alive and timeouts as the product's ``serve``
command (its constants are imported), no access log, control socket off.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for bare.*

from gunicorn.app.base import BaseApplication

from fairshare.operations.management.commands.serve import (
    DEFAULT_THREADS,
    DEFAULT_WORKER_CLASS,
    KEEPALIVE_SECONDS,
)


class BareApp(BaseApplication):
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        super().__init__()

    def load_config(self) -> None:
        a = self.args
        self.cfg.set("bind", f"{a.host}:{a.port}")
        self.cfg.set("workers", a.workers)
        self.cfg.set("worker_class", a.worker_class)
        if a.worker_class == "gthread":
            self.cfg.set("threads", max(1, a.threads))
            self.cfg.set("keepalive", KEEPALIVE_SECONDS)
        self.cfg.set("timeout", 60)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("accesslog", None)
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self):  # the WSGI callable
        from bare.wsgi import application

        return application


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--worker-class", default=DEFAULT_WORKER_CLASS, choices=["sync", "gthread"])
    ap.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    BareApp(ap.parse_args(argv)).run()


if __name__ == "__main__":
    main()
