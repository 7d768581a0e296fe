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
   order to avoid deadlocks: pharmacy supply → committee queue counter → voucher.
4. **State changes re-check state under the lock**, or use a conditional update
   (``UPDATE … WHERE status = 'issued'``) and check the row count.
5. **Waiting is bounded**: PostgreSQL gets ``SET LOCAL lock_timeout``; SQLite has a
   busy timeout. Either way the caller gets ``Busy``, which pages and the API turn
   into "busy, please retry" (HTTP 503 with Retry-After), never a 500.

SQLite: ``select_for_update`` does nothing there. The settings make every
transaction ``BEGIN IMMEDIATE``, which takes the database write lock at the start,
so a write transaction is serialized against all other writers; that is the lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connections, transaction
from django.utils.translation import gettext_lazy as _

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


@contextmanager
def write_transaction(
    *, using: str = "default", lock_timeout_ms: int | None = None
) -> Iterator[None]:
    """Run one business operation in one transaction with bounded lock waits."""
    conn = connections[using]
    try:
        with transaction.atomic(using=using):
            if conn.vendor == "postgresql":
                ms = lock_timeout_ms or settings.LOCK_TIMEOUT_MS
                with conn.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{int(ms)}ms'")
            yield
    except OperationalError as exc:
        if is_lock_error(exc):
            raise Busy() from exc
        raise


def supports_row_locks(using: str = "default") -> bool:
    return connections[using].vendor == "postgresql"
