"""The queue of a (round, committee): its counter lock, enqueue and ledger append.

Every write that takes a queue number or extends the public hash chain (registration,
void, approval, round carry-over, and the batch links of allocation, expiry, redemption
and carry-over) goes through these steps, in one ``write_transaction`` (a batch link
takes only steps 1 and 3):

1. ``counter_lock``: the (round, committee) ``QueueCounter`` row, locked until the
   transaction ends (``row_lock_sql``, rule 6 in ``core/locking.py``; on SQLite the
   IMMEDIATE write transaction is the lock). Holding it makes queue numbers unique and
   gapless and keeps the chain a single line (README.md, "The public ledger").
2. ``enqueue``: the registration gets the next number and is inserted; the partial
   unique constraints (one live registration per household and round, one queue number
   per round and committee) are the database's last guard.
3. ``ledger_append``: one hash-chain link per change (``registration/ledger.py``
   format) and the counter row's new last number, sequence and head hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db import connection

from fairshare.core.fastsql import WriteBatch, insert_model, select_models
from fairshare.core.locking import row_lock_sql
from fairshare.registration.ledger import canonical, link_hash
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration

# (kind, registration or None for a batch link, payload for a sequence number): one link
Link = tuple[str, Registration | None, Callable[[int], dict[str, Any]]]


def counter_lock(*, round_id: int, committee_id: int) -> QueueCounter:
    """The (round, committee) counter row, created if missing, locked for the transaction."""

    def query() -> QueueCounter | None:
        found = select_models(
            QueueCounter,
            "round_id = %s AND committee_id = %s",
            [round_id, committee_id],
            suffix=row_lock_sql(),
        )
        return found[0] if found else None

    counter = query()
    if counter is None:
        # INSERT … ON CONFLICT DO NOTHING: concurrent first registrations cannot fail here.
        QueueCounter.objects.bulk_create(
            [QueueCounter(round_id=round_id, committee_id=committee_id)], ignore_conflicts=True
        )
        counter = query()
        assert counter is not None
    return counter


def enqueue(counter: QueueCounter, registration: Registration) -> bool:
    """Give ``registration`` the next queue number of the locked ``counter`` and insert it.

    False when a unique constraint refused the row (``ON CONFLICT DO NOTHING``: the
    household is registered already, or its ticket was drawn before); the counter is
    advanced only when the row went in.
    """
    registration.queue_number = counter.last_number + 1
    if not insert_model(registration, ignore_conflicts=True):
        return False
    counter.last_number = registration.queue_number
    return True


def ledger_append(
    counter: QueueCounter,
    links: Iterable[Link],
    *,
    batch: WriteBatch | None = None,
    created_at: datetime | None = None,
) -> list[LedgerEntry]:
    """Append ``links`` to the chain of the locked ``counter`` and save the counter.

    Each payload is built for its sequence number. With ``batch`` the writes join it
    (the caller flushes); without, they are sent at once.
    """
    own = batch is None
    writes = WriteBatch() if batch is None else batch
    entries = []
    for kind, registration, payload_for in links:
        seq = counter.ledger_seq + 1
        text = canonical(payload_for(seq))
        entry = LedgerEntry(
            round_id=counter.round_id,
            committee_id=counter.committee_id,
            seq=seq,
            kind=kind,
            registration=registration,
            payload=text,
            prev_hash=counter.head_hash,
            hash=link_hash(counter.head_hash, text),
        )
        if created_at is not None:
            entry.created_at = created_at
        writes.insert(entry)
        entries.append(entry)
        counter.ledger_seq, counter.head_hash = seq, entry.hash
    table = connection.ops.quote_name(QueueCounter._meta.db_table)
    writes.add(
        f"UPDATE {table} "  # noqa: S608 - model table
        "SET last_number = %s, ledger_seq = %s, head_hash = %s WHERE id = %s",
        [counter.last_number, counter.ledger_seq, counter.head_hash, counter.pk],
    )
    if own:
        writes.flush()
    return entries


def counters_lock(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], QueueCounter]:
    """The counters of several (round id, committee id) chains, locked in that order
    (ascending round id, then committee id: locking rule 3), keyed by the pair."""
    return {
        pair: counter_lock(round_id=pair[0], committee_id=pair[1]) for pair in sorted(set(pairs))
    }
