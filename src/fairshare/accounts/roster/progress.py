"""The command's progress output: one line per stage (``[  12.3s] checking``), and on a
terminal a bar redrawn in place (``\\r``) while a stage counts rows."""

from __future__ import annotations

import time
from typing import Any

_WIDTH = 30


class StageProgress:
    """A ``Progress`` for ``roster_import`` writing to ``out`` (the command's stderr)."""

    def __init__(self, out: Any, *, started: float | None = None, tty: bool | None = None):
        self.out = out
        self.started = time.monotonic() if started is None else started
        raw = getattr(out, "_out", out)  # Django's OutputWrapper around the real stream
        self.tty = bool(getattr(raw, "isatty", lambda: False)()) if tty is None else tty
        self.stage = ""
        self.drawn = False
        self.last = 0.0

    def __call__(self, stage: str, done: int = 0, total: int = 0) -> None:
        now = time.monotonic()
        if stage != self.stage:
            self._clear()
            self.stage = stage
            self._write(f"[{now - self.started:6.1f}s] {stage}\n")
        if not self.tty or not total or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        filled = int(_WIDTH * done / total)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self._write(f"\r  {stage} [{bar}] {done:,}/{total:,} ({100 * done // total}%)")
        self.drawn = True

    def end(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self.drawn:
            self._write("\n")
            self.drawn = False

    def _write(self, text: str) -> None:
        raw = getattr(self.out, "_out", self.out)
        raw.write(text)
        raw.flush()
