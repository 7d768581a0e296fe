"""The allocation events in the public hash chain (ledger format 2, ``registration/ledger.py``).

Each (round, committee) chain gets, through the registration queue
(``registration/queue.py``: the counter lock, then ``ledger_append``) and inside the
business operation's transaction:

* ``allocation``: one link per (allocation run, committee) that issued vouchers, at the
  end of the run's transaction (``engine._write``), with the queue numbers served in
  issue order (fulfilment, slot start) and the run's inputs: the committee's quota from
  the split and its parts (requeued taken, offline reserve, general queue), the
  building shares (per-building policy, by building label), the revealed lottery seed
  (lottery policy). The served list is read back with one SELECT in issue order; the
  vouchers themselves stay one INSERT … SELECT (``setbased``). A dry run writes nothing.
* ``expired``: one link per committee per expiry run (``expiry.py``), its entries
  ``[queue_number, "requeued" | "dropped"]`` in requeue order.
* ``redeemed``: never on the till's path (a sale touches only its voucher). A batch link
  per (round, committee) with the vouchers bought since the previous one
  (``ledger_redeemed_flush``): ``fairshare ledger_flush``, run every 5 minutes by
  ``deploy/systemd/fairshare-ledger-flush.timer``. The vouchers a link covers carry its
  sequence number (``Voucher.ledger_seq``), so each is in exactly one link; offline
  sales synced later (``pharmacy/offline.py``) are redeemed vouchers like any other and
  join the next flush. There is no day-close operation in the product: the 5-minute
  timer puts a day's last sales in the chain within minutes of the close, before the
  daily checkpoint (``fairshare ledger_checkpoint``, at night) records the heads.
* ``carried``: in the source round's chain, per committee, the carried queue numbers
  and the target round (``carryover.py``).

Several counters are locked in (round id, committee id) order (``queue.counters_lock``,
locking rule 3). ``chain_checks.py`` re-checks these links against the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.utils import timezone

from fairshare.allocation.models import AllocationRun, Voucher
from fairshare.community.models import Pharmacy
from fairshare.core.locking import write_transaction
from fairshare.registration import queue
from fairshare.registration.ledger import (
    allocation_payload,
    carried_payload,
    expired_payload,
    redeemed_payload,
)
from fairshare.registration.models import LedgerEntry, QueueCounter
from fairshare.registration.selectors import ledger_at_iso
from fairshare.rounds.models import Round

# Per flush UPDATE of ``Voucher.ledger_seq`` (below SQLite's bound on parameters).
FLUSH_CHUNK = 900


@dataclass(frozen=True)
class CommitteeInputs:
    """What one committee got from a run's split (``setbased.CommitteePlan``)."""

    committee_id: int
    requeued: int  # taken from the requeued households
    reserve: int  # the offline reserve
    general: int  # from the general queue
    buildings: dict[str, int] | None = None  # general share per building label

    @property
    def quota(self) -> int:
        return self.requeued + self.reserve + self.general


def _hhmm(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")


def served_in_issue_order(*, supply_day_id: int, after_id: int) -> list[tuple[Any, ...]]:
    """(committee id, queue number, fulfilment, slot start) of the vouchers a run just
    inserted (ids above ``after_id``), in issue order: one SELECT."""
    return list(
        Voucher.objects.filter(supply_day_id=supply_day_id, id__gt=after_id)
        .order_by("id")
        .values_list("committee_id", "registration__queue_number", "fulfilment", "slot_start")
    )


def allocation_links_append(
    *,
    round: Round,
    run: AllocationRun,
    pharmacy: Pharmacy,
    inputs: Sequence[CommitteeInputs],
    served: Iterable[tuple[Any, ...]],
    now: datetime,
) -> list[LedgerEntry]:
    """One ``allocation`` link per committee of the run that issued vouchers."""
    by_committee: dict[int, list[list[Any]]] = {}
    for committee_id, number, fulfilment, slot_start in served:
        by_committee.setdefault(committee_id, []).append([number, fulfilment, _hhmm(slot_start)])
    known = {item.committee_id: item for item in inputs}
    counters = queue.counters_lock((round.pk, cid) for cid in by_committee)
    lottery = round.policy == Round.Policy.LOTTERY
    entries: list[LedgerEntry] = []
    for (_round_id, committee_id), counter in counters.items():
        item = known.get(committee_id, CommitteeInputs(committee_id, 0, 0, 0))
        items = by_committee[committee_id]

        def payload(seq: int, item: CommitteeInputs = item, items: list[Any] = items) -> Any:
            return allocation_payload(
                seq=seq,
                run=run.pk,
                pharmacy=pharmacy.code,
                day=run.date.isoformat(),
                policy=round.policy,
                reserve_pct=round.offline_reserve_pct,
                quota=item.quota,
                requeued=item.requeued,
                reserve=item.reserve,
                general=item.general,
                buildings=item.buildings,
                seed=round.lottery_seed if lottery else None,
                carried_first=round.carried_first if lottery else False,
                served=items,
                at_iso=ledger_at_iso(now),
            )

        entries += queue.ledger_append(
            counter, [(LedgerEntry.Kind.ALLOCATION, None, payload)], created_at=now
        )
    return entries


def expired_links_append(
    *,
    counters: dict[tuple[int, int], QueueCounter],
    entries: Iterable[tuple[int, int, int, str]],
    now: datetime,
) -> None:
    """One ``expired`` link per chain: ``entries`` are (round id, committee id, queue
    number, outcome) in requeue order; ``counters`` locked by the caller."""
    by_chain: dict[tuple[int, int], list[list[Any]]] = {}
    for round_id, committee_id, number, outcome in entries:
        by_chain.setdefault((round_id, committee_id), []).append([number, outcome])
    for pair, items in sorted(by_chain.items()):

        def payload(seq: int, items: list[Any] = items) -> Any:
            return expired_payload(seq=seq, entries=items, at_iso=ledger_at_iso(now))

        queue.ledger_append(
            counters[pair], [(LedgerEntry.Kind.EXPIRED, None, payload)], created_at=now
        )


def carried_link_append(
    *, counter: QueueCounter, to_round: int, queue_numbers: Sequence[int], now: datetime
) -> None:
    """The ``carried`` link of one committee in the source round's (locked) chain."""
    numbers = list(queue_numbers)
    queue.ledger_append(
        counter,
        [
            (
                LedgerEntry.Kind.CARRIED,
                None,
                lambda seq: carried_payload(
                    seq=seq, to_round=to_round, queue_numbers=numbers, at_iso=ledger_at_iso(now)
                ),
            )
        ],
        created_at=now,
    )


def _unflushed(round_id: int | None = None) -> Any:
    found = Voucher.objects.filter(status=Voucher.Status.REDEEMED, ledger_seq__isnull=True)
    return found.filter(round_id=round_id) if round_id is not None else found


def _flush_chain(round_id: int, committee_id: int, now: datetime) -> bool:
    """One ``redeemed`` link for the chain's vouchers bought since its last one."""
    with write_transaction():
        counter = queue.counter_lock(round_id=round_id, committee_id=committee_id)
        # Under the counter lock no other flush of this chain runs; a redeemed voucher
        # stays redeemed, so what is read here is exactly what the link covers.
        rows = list(
            _unflushed(round_id)
            .filter(committee_id=committee_id)
            .order_by("redeemed_at", "id")
            .values_list("id", "registration__queue_number")
        )
        if not rows:
            return False
        numbers = [number for _id, number in rows]
        (entry,) = queue.ledger_append(
            counter,
            [
                (
                    LedgerEntry.Kind.REDEEMED,
                    None,
                    lambda seq: redeemed_payload(
                        seq=seq, queue_numbers=numbers, at_iso=ledger_at_iso(now)
                    ),
                )
            ],
            created_at=now,
        )
        ids = [voucher_id for voucher_id, _number in rows]
        for start in range(0, len(ids), FLUSH_CHUNK):
            Voucher.objects.filter(id__in=ids[start : start + FLUSH_CHUNK]).update(
                ledger_seq=entry.seq
            )
    return True


def ledger_redeemed_flush(*, round: Round | None = None) -> int:
    """Append one ``redeemed`` link per (round, committee) with vouchers bought since its
    last one (of ``round`` only, when given); one transaction per chain, in (round,
    committee) order. Returns the number of links appended."""
    unflushed = _unflushed(round.pk if round is not None else None)
    pairs = sorted(unflushed.order_by().values_list("round_id", "committee_id").distinct())
    now = timezone.now()
    return sum(_flush_chain(round_id, committee_id, now) for round_id, committee_id in pairs)
