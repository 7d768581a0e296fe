"""The one locking helper. Read the rules before writing a service that changes state.

Rules
-----
1. **One transaction per business operation**: wrap the whole operation in
   ``write_transaction()``; slow side effects go to the outbox (``outbox_enqueue``)
   and run after commit.
2. **Lock what you use up, nothing else**: the row whose value the operation
   consumes or extends (the queue counter of a (round, committee), the supply of a
   (pharmacy, day), the voucher being redeemed). Read and validate everything else
   *before* taking the lock.
3. **As late as possible, once per transaction**: take each lock once, right before
   the write that needs it. When several rows must be locked, lock them in this
   order to avoid deadlocks: round (no key, rule 7) → pharmacy supply → committee
   queue counter → voucher. Several queue counters (an allocation run's ledger links,
   an expiry, a carry-over's two rounds) are locked in ascending (round id, committee
   id) order (``registration.queue.counters_lock``).
4. **State changes re-check state under the lock**, or use a conditional update
   (``UPDATE … WHERE status = 'issued'``) and check the row count.
5. **Waiting is bounded**: PostgreSQL gets ``SET LOCAL lock_timeout``; SQLite has a
   busy timeout. Either way the caller gets ``Busy``, which pages and the API turn
   into "busy, please retry" (HTTP 503 with Retry-After), never a 500.

6. **Every row lock goes through ``lock_rows`` (ORM) or ``row_lock_sql`` (raw SQL)**, so
   the rule has one place, and a race test can switch the guard off by replacing these
   two functions (the negative control runs the product's own code without its lock).

7. **A lock that only serializes operations on a parent row takes ``no_key=True``**
   (PostgreSQL ``FOR NO KEY UPDATE``): allocation and carry-over of a round serialize on
   the round's row, but inserting a row that references it (a registration: PostgreSQL's
   foreign-key check takes ``FOR KEY SHARE``) never waits for them. Changes of the
   round itself (open, close) keep the full lock, which waits for both.

SQLite: ``select_for_update`` does nothing there. The settings make every
transaction ``BEGIN IMMEDIATE``, which takes the database write lock at the start,
so a write transaction is serialized against all other writers; that is the lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _

M = TypeVar("M", bound=Model)

_PG_LOCK_STATES = {"55P03", "40P01", "40001"}  # lock_not_available, deadlock, serialization


class Busy(Exception):
    """A lock could not be had in time; the caller should retry shortly."""

    retry_after = 1
    message = _("The system is busy, please retry in a moment.")

    def __str__(self) -> str:
        return str(self.message)


def is_lock_error(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    state = getattr(cause, "sqlstate", None) or getattr(
        getattr(cause, "diag", None), "sqlstate", None
    )
    if state in _PG_LOCK_STATES:
        return True
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text


_local = threading.local()
_thread_locks: dict[str, threading.Lock] = {}
_lock_files: dict[str, int] = {}
_registry_lock = threading.Lock()


@contextmanager
def _sqlite_writer_turn(path: str) -> Iterator[None]:
    """Queue SQLite writers on an OS file lock before ``BEGIN IMMEDIATE``.

    Without it, concurrent writers poll for SQLite's write lock in its busy handler,
    which sleeps 1, 2, 5, 10 … 100 ms between attempts: under a rush the lock stays
    free while the waiters sleep (measured: the registration rush stayed at ~60/s with
    four workers while one thread alone did 140/s; see BENCHMARKS.md). ``flock`` wakes
    the next waiter as soon as the holder releases it. Threads of one process queue on
    a ``threading.Lock`` first (flock is per open file, shared by the threads).
    The wait is bounded like every lock wait (rule 5): after ``LOCK_TIMEOUT_MS`` the
    caller gets ``Busy``. The file lock is polled with short sleeps (0.5 ms growing to
    5 ms), still far finer than SQLite's busy handler.
    """
    with _registry_lock:
        tlock = _thread_locks.setdefault(path, threading.Lock())
        fd = _lock_files.get(path)
        if fd is None:
            fd = _lock_files[path] = os.open(path + ".writelock", os.O_RDWR | os.O_CREAT, 0o600)
    timeout = settings.LOCK_TIMEOUT_MS / 1000
    deadline = time.monotonic() + timeout
    if not tlock.acquire(timeout=timeout):
        raise Busy()
    try:
        pause = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy() from None
                time.sleep(pause)
                pause = min(pause * 2, 0.005)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        tlock.release()


def _writer_turn(conn: BaseDatabaseWrapper) -> AbstractContextManager[None]:
    """The SQLite writer queue for the outermost write transaction, else nothing."""
    depth = getattr(_local, "depth", 0)
    name = str(conn.settings_dict.get("NAME") or "")
    if (
        conn.vendor != "sqlite"
        or depth
        or conn.in_atomic_block
        or not name
        or name.startswith("file:")
        or ":memory:" in name
    ):
        return nullcontext()
    return _sqlite_writer_turn(name)


@contextmanager
def _depth() -> Iterator[None]:
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1


@contextmanager
def write_transaction(
    *, using: str = "default", lock_timeout_ms: int | None = None
) -> Iterator[None]:
    """Run one business operation in one transaction with bounded lock waits."""
    conn = connections[using]
    outermost = not conn.in_atomic_block
    try:
        with _writer_turn(conn), _depth(), transaction.atomic(using=using):
            if conn.vendor == "postgresql":
                _set_lock_timeout(conn, int(lock_timeout_ms or settings.LOCK_TIMEOUT_MS), outermost)
            yield
    except BaseException as exc:
        conn.__dict__.pop(_LOCK_TIMEOUT_MARK, None)  # a rolled-back SET is undone
        if isinstance(exc, OperationalError) and is_lock_error(exc):
            raise Busy() from exc
        raise


_LOCK_TIMEOUT_MARK = "_fairshare_lock_timeout"


def _set_lock_timeout(conn: BaseDatabaseWrapper, ms: int, outermost: bool) -> None:
    """Bound lock waits. An outermost write transaction sets the session's lock_timeout
    once per database connection (it stays after COMMIT; a rollback undoes it and clears
    the mark) instead of ``SET LOCAL`` in every transaction: one round trip less per
    write. Nested in someone else's transaction, ``SET LOCAL`` as before."""
    raw = conn.connection
    mark = conn.__dict__.get(_LOCK_TIMEOUT_MARK)
    if outermost and mark is not None and mark[0] is raw and mark[1] == ms:
        return
    with conn.cursor() as cursor:
        cursor.execute(f"SET {'' if outermost else 'LOCAL '}lock_timeout = '{ms}ms'")
    if outermost:
        conn.__dict__[_LOCK_TIMEOUT_MARK] = (raw, ms)


def supports_row_locks(using: str = "default") -> bool:
    return connections[using].vendor == "postgresql"


def lock_rows(queryset: QuerySet[M], *, no_key: bool = False) -> QuerySet[M]:
    """``queryset`` whose rows stay locked until the transaction ends (rules 6 and 7)."""
    return queryset.select_for_update(no_key=no_key)


def row_lock_sql(using: str = "default") -> str:
    """The clause that locks a raw SELECT's rows (rule 6): " FOR UPDATE", or "" on SQLite."""
    return " FOR UPDATE" if supports_row_locks(using) else ""
