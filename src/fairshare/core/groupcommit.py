"""Group commit for SQLite: several requests' write transactions share one COMMIT (fsync).

Measured (BENCHMARKS.md): on this machine the SQLite registration rush is bound by the
COMMIT's fsync (iowait 40 % while the CPU was 35 % idle), one per registration. With
``group_commit(fn)``, the threads of one worker process that want to write at the same
time queue up; one of them (the leader) takes the writer turn, runs every queued
``fn`` in ONE transaction, each in its own savepoint (an error in one rolls back only
that one and is raised in its own thread), commits once, and only then wakes the
others with their results. Nobody is answered before the commit that holds its
writes: durability is unchanged; only the number of fsyncs falls.

The leader runs the others' functions on its own thread, hence on its own database
connection: ``fn`` must do its writes through ``django.db.connection`` (all services
do) and must not rely on thread-local state other than the database connection.
PostgreSQL already merges concurrent commits in its WAL flush (and row locks taken in
one transaction for several committees could deadlock), so there ``fn`` runs as is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import connections, transaction

from fairshare.core.locking import write_transaction

T = TypeVar("T")
MAX_BATCH = 32


class _Unit:
    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None


_queue: list[_Unit] = []
_queue_lock = threading.Lock()
_leader = threading.Lock()


def group_commit_enabled(using: str = "default") -> bool:
    conn = connections[using]
    return (
        getattr(settings, "GROUP_COMMIT", True)
        and conn.vendor == "sqlite"
        and not conn.in_atomic_block
    )


def group_commit(fn: Callable[[], T]) -> T:
    """Run ``fn`` (which opens its own write transaction) so that its COMMIT may be shared
    with other threads' concurrent calls; return its result or raise its error after
    that commit."""
    if not group_commit_enabled():
        return fn()
    unit = _Unit(fn)
    with _queue_lock:
        _queue.append(unit)
    with _leader:
        while not unit.done:  # (more than MAX_BATCH ahead of it: another round)
            with _queue_lock:
                batch = _queue[:MAX_BATCH]
                del _queue[:MAX_BATCH]
            _run(batch)
    if unit.error is not None:
        raise unit.error
    return cast(T, unit.result)


def _join_latecomers(batch: list[_Unit]) -> None:
    """Add the units queued while the leader waited for the writer turn (other worker
    processes hold it most of the time under load): they share this COMMIT instead of
    waiting for the next turn."""
    with _queue_lock:
        more = _queue[: MAX_BATCH - len(batch)] if len(batch) < MAX_BATCH else []
        del _queue[: len(more)]
    batch.extend(more)


def _run(batch: list[_Unit]) -> None:
    try:
        with write_transaction():
            _join_latecomers(batch)
            for unit in batch:
                try:
                    with transaction.atomic():  # a savepoint per request
                        unit.result = unit.fn()
                except Exception as exc:
                    unit.error = exc
    except BaseException as exc:  # the COMMIT (or BEGIN) failed: nothing was written
        for unit in batch:
            if unit.error is None:
                unit.result, unit.error = None, exc
    finally:
        for unit in batch:
            unit.done = True
