"""``verify_ledger``'s checks of the allocation events' links against the rows.

Registered with ``registration.verify.register_row_check`` (``apps.py``); each returns ""
when the link agrees with the stored rows, else the reason, reported as a break:

* ``allocation``: the run exists in this round, and its vouchers of this committee
  (same supply day, ``issued_at`` = the run's ``ran_at``) have exactly the served queue
  numbers, in issue (id) order;
* ``redeemed``: the vouchers carrying the link's sequence number (``Voucher.ledger_seq``)
  are bought and have exactly its queue numbers;
* ``expired``: every entry has its requeue record (queue number, outcome) of an expired
  voucher;
* ``emergency``: the voucher carrying the link's sequence number is the emergency
  delivery (bought, home delivery, channel ``emergency``) of exactly its queue number,
  pharmacy, day and packs;
* ``carried``: the carry-over into ``to_round`` happened and the carried queue numbers
  are registrations of this chain.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fairshare.allocation.models import AllocationRun, CarryOver, Requeue, Voucher
from fairshare.registration.models import Channel, LedgerEntry, Registration
from fairshare.registration.verify import register_row_check


def _numbers(values: Any) -> list[Any]:
    return list(values) if isinstance(values, list) else []


def allocation_check(entry: LedgerEntry, body: dict[str, Any]) -> str:
    run_id = body.get("run")
    run = None
    if isinstance(run_id, int):
        run = AllocationRun.objects.filter(pk=run_id, round_id=entry.round_id).first()
    if run is None:
        return "the allocation link names no allocation run of this round"
    served = [item[0] for item in _numbers(body.get("served")) if isinstance(item, list) and item]
    numbers = list(
        Voucher.objects.filter(
            supply_day_id=run.supply_day_id, issued_at=run.ran_at, committee_id=entry.committee_id
        )
        .order_by("id")
        .values_list("registration__queue_number", flat=True)
    )
    if numbers != served:
        return "the vouchers of the run differ from the allocation link's served list"
    return ""


def redeemed_check(entry: LedgerEntry, body: dict[str, Any]) -> str:
    rows = list(
        Voucher.objects.filter(
            round_id=entry.round_id, committee_id=entry.committee_id, ledger_seq=entry.seq
        ).values_list("registration__queue_number", "status")
    )
    if any(status != Voucher.Status.REDEEMED for _number, status in rows):
        return "a voucher of the redeemed link is not bought"
    if sorted(number for number, _status in rows) != sorted(_numbers(body.get("queue_numbers"))):
        return "the bought vouchers differ from the redeemed link"
    return ""


def expired_check(entry: LedgerEntry, body: dict[str, Any]) -> str:
    items = [tuple(item) for item in _numbers(body.get("entries")) if isinstance(item, list)]
    found = Counter(
        Requeue.objects.filter(
            round_id=entry.round_id,
            registration__committee_id=entry.committee_id,
            registration__queue_number__in=[item[0] for item in items if item],
            voucher__status=Voucher.Status.EXPIRED,
        ).values_list("registration__queue_number", "outcome")
    )
    if Counter(items) - found:
        return "an entry of the expired link has no expired voucher with that outcome"
    return ""


def carried_check(entry: LedgerEntry, body: dict[str, Any]) -> str:
    if not CarryOver.objects.filter(source_id=entry.round_id, target_id=body.get("to_round")):
        return "the carried link names no carry-over from this round"
    numbers = _numbers(body.get("queue_numbers"))
    stored = Registration.objects.filter(
        round_id=entry.round_id, committee_id=entry.committee_id, queue_number__in=numbers
    ).count()
    if stored != len(set(numbers)):
        return "a carried queue number is no registration of this chain"
    return ""


def emergency_check(entry: LedgerEntry, body: dict[str, Any]) -> str:
    rows = list(
        Voucher.objects.filter(
            round_id=entry.round_id, committee_id=entry.committee_id, ledger_seq=entry.seq
        ).values_list(
            "registration__queue_number",
            "registration__channel",
            "status",
            "fulfilment",
            "pharmacy__code",
            "date",
            "packs",
        )
    )
    expected = (
        body.get("queue_number"),
        Channel.EMERGENCY,
        Voucher.Status.REDEEMED,
        Voucher.Fulfilment.DELIVERY,
        body.get("pharmacy"),
        body.get("day"),
        body.get("packs"),
    )
    if [(*row[:5], row[5].isoformat(), row[6]) for row in rows] != [expected]:
        return "the emergency link differs from its delivered voucher"
    return ""


def register_chain_checks() -> None:
    register_row_check(LedgerEntry.Kind.ALLOCATION, allocation_check)
    register_row_check(LedgerEntry.Kind.REDEEMED, redeemed_check)
    register_row_check(LedgerEntry.Kind.EXPIRED, expired_check)
    register_row_check(LedgerEntry.Kind.CARRIED, carried_check)
    register_row_check(LedgerEntry.Kind.EMERGENCY, emergency_check)
