"""Serve the service as in production: gunicorn workers plus one outbox worker."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from django.core.management.base import BaseCommand

# Worker model, chosen by measurement (BENCHMARKS.md, "worker class"; 2 shared cores,
# 4 workers, load average 4-6): /ping with 50 closed-loop clients reached 356-435 req/s
# with sync workers (each closes its connection after one answer: close_graceful + write
# were 70-75 % of a worker's samples) and 1,709-1,863 req/s with gthread (4 threads,
# keep-alive); the open-model /ping held 472/s (sync) vs 1,440-1,874/s (gthread).
# Threads also overlap one request's database wait with another's Python work.
DEFAULT_WORKER_CLASS = "gthread"
DEFAULT_THREADS = 4
KEEPALIVE_SECONDS = 5


def _prepare_metrics_dir() -> None:
    """Put the workers' /metrics counters in multiprocess mode (operations/metrics.py):
    PROMETHEUS_MULTIPROC_DIR, by default ``<data folder>/metrics``, set here so that only
    this process tree uses it, and emptied before any worker starts (files of a previous
    run would otherwise be summed into this run's counters)."""
    from django.conf import settings

    path = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(settings.DATA_DIR / "metrics"))
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()


def _child_exit(server, worker) -> None:
    """gunicorn hook: a worker that exited no longer counts in live-process gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _outbox_loop() -> None:
    from django.core.management import call_command

    call_command("outbox_worker")


class Command(BaseCommand):
    help = "Run the web service (gunicorn) and an outbox worker on 127.0.0.1:PORT."

    def execute(self, *args, **options):
        # Before the system checks, which import the URLconf and so operations/metrics.py
        # and prometheus_client: the counters' storage is chosen when they are created,
        # from PROMETHEUS_MULTIPROC_DIR.
        _prepare_metrics_dir()
        return super().execute(*args, **options)

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "3"))
        )
        parser.add_argument(
            "--worker-class",
            default=os.environ.get("FAIRSHARE_WORKER_CLASS", DEFAULT_WORKER_CLASS),
            choices=["sync", "gthread"],
            help=f"gunicorn worker class (default {DEFAULT_WORKER_CLASS}; see BENCHMARKS.md)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("FAIRSHARE_THREADS", str(DEFAULT_THREADS))),
            help=f"threads per gthread worker (default {DEFAULT_THREADS})",
        )
        parser.add_argument(
            "--no-outbox", action="store_true", help="do not start the outbox worker"
        )

    def handle(
        self,
        *args,
        host: str,
        port: int,
        workers: int,
        worker_class: str,
        threads: int,
        no_outbox: bool,
        **options,
    ):
        from gunicorn.app.base import BaseApplication

        # Imported here, not at the top: importing it builds the application and freezes
        # the collector (fairshare/wsgi.py), which only serving should do.
        from fairshare.wsgi import application

        class App(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                self.cfg.set("worker_class", worker_class)
                if worker_class == "gthread":
                    self.cfg.set("threads", max(1, threads))
                    self.cfg.set("keepalive", KEEPALIVE_SECONDS)
                self.cfg.set("timeout", 60)
                self.cfg.set("graceful_timeout", 10)
                self.cfg.set("accesslog", None)
                self.cfg.set("child_exit", _child_exit)
                # Several instances (demo, benchmarks, tests) may run on one machine:
                # gunicorn's per-user control socket would clash between them.
                if "control_socket_disable" in self.cfg.settings:
                    self.cfg.set("control_socket_disable", True)

            def load(self):
                return application

        worker = None
        if not no_outbox:
            worker = multiprocessing.get_context("fork").Process(target=_outbox_loop, daemon=True)
            worker.start()
        try:
            App().run()
        finally:
            if worker is not None:
                worker.terminate()
