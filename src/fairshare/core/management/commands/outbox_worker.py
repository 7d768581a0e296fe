"""Drain the outbox (SMS and other slow side effects) until stopped."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from fairshare.core.outbox import outbox_drain


class Command(BaseCommand):
    help = "Perform due outbox messages; several workers may run at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="drain what is due, then exit")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, once: bool, interval: float, **options: Any) -> None:
        while True:
            close_old_connections()
            try:
                counts = outbox_drain(limit=200)
            except Exception as exc:  # the database may be restarting; keep going
                self.stderr.write(f"outbox: {exc}")
                counts = {"sent": 0}
            if once:
                self.stdout.write(str(counts))
                return
            if not counts.get("sent") and not counts.get("retried"):
                time.sleep(interval)
