"""A small threaded load generator that records every answer with its timing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.liveserver import http

# One request: (name, method, url, body, headers)
Request = tuple[str, str, str, object, dict[str, str]]


@dataclass
class Answer:
    name: str
    started: float
    elapsed: float
    status: int  # 0: no answer (connection refused, reset or timed out)
    headers: dict[str, str]
    body: bytes
    error: str = ""


@dataclass
class Load:
    """Threads calling ``next_request()`` in a loop until ``stop()``."""

    next_request: Callable[[int], Request]
    threads: int = 4
    timeout: float = 15
    pause: float = 0.02
    answers: list[Answer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._counter = 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                self._counter += 1
                n = self._counter
            name, method, url, body, headers = self.next_request(n)
            started = time.monotonic()
            try:
                status, resp_headers, data = http(
                    method, url, body=body, headers=headers, timeout=self.timeout
                )
                answer = Answer(
                    name, started, time.monotonic() - started, status, resp_headers, data
                )
            except OSError as exc:
                answer = Answer(name, started, time.monotonic() - started, 0, {}, b"", repr(exc))
            with self._lock:
                self.answers.append(answer)
            time.sleep(self.pause)

    def start(self) -> Load:
        for _ in range(self.threads):
            worker = threading.Thread(target=self._loop, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=self.timeout + 5)

    def between(self, start: float, end: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if start <= a.started and a.started + a.elapsed <= end]
