"""The transparency ledger: a hash chain per (round, committee) over public fields only.

The format (version 2; version-1 links still verify) is specified completely in
docs/ledger.md, with a chain verifier and an order checker in plain Python
(``ledger_order.py`` is the latter, verbatim). In short:

* each link's ``payload`` is canonical JSON: keys sorted, no spaces, UTF-8, no ASCII
  escaping (``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``);
* ``hash = sha256_hex(prev_hash + "\\n" + payload)``; the first link's ``prev_hash`` is
  64 zeros; the head hash is the hash of the last link;
* the payload builders below are the event kinds (registered, voided, approved,
  corrected, allocation, redeemed, expired, carried, shortfall); earlier links are
  never rewritten. A pending registration superseded by its household's
  roster-matching one (``registration/supersede.py``) is a "voided" link with the
  reason ``superseded``, appended just before the new registration's link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
FORMAT_VERSION = 2  # links of format 1 (registered, voided) still verify
# The void reason of a pending registration superseded by the household's own one.
SUPERSEDED = "superseded"


def canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, payload_text: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + payload_text).encode("utf-8")).hexdigest()


def registered_payload(
    *,
    seq: int,
    queue_number: int,
    masked_name: str,
    building: str,
    room: str,
    channel: str,
    at_iso: str,
    review: bool = False,
    written_at_iso: str | None = None,
    carried_from: int | None = None,
) -> dict[str, Any]:
    """A registration. ``review``: it is pending review (held: no voucher until an
    ``approved`` link); ``written_at``: the time written on the sheet (shown, never
    orders); ``carried_from``: the round it was carried over from."""
    return {
        "v": FORMAT_VERSION,
        "kind": "registered",
        "seq": seq,
        "queue_number": queue_number,
        "name": masked_name,
        "building": building,
        "room": room,
        "channel": channel,
        "at": at_iso,
        "review": review,
        "written_at": written_at_iso,
        "carried_from": carried_from,
    }


def voided_payload(*, seq: int, queue_number: int, reason: str, at_iso: str) -> dict[str, Any]:
    """A registration made void (rejected in review, superseded, or by staff)."""
    return {
        "v": FORMAT_VERSION,
        "kind": "voided",
        "seq": seq,
        "queue_number": queue_number,
        "reason": reason,
        "at": at_iso,
    }


def approved_payload(*, seq: int, queue_number: int, at_iso: str) -> dict[str, Any]:
    """A registration pending review approved: from now on it waits at its place."""
    return {
        "v": FORMAT_VERSION,
        "kind": "approved",
        "seq": seq,
        "queue_number": queue_number,
        "at": at_iso,
    }


def corrected_payload(
    *, seq: int, queue_number: int, field: str, value: str, at_iso: str
) -> dict[str, Any]:
    """Staff corrected a public field (``name``: the new masked name)."""
    return {
        "v": FORMAT_VERSION,
        "kind": "corrected",
        "seq": seq,
        "queue_number": queue_number,
        "field": field,
        "value": value,
        "at": at_iso,
    }


def allocation_payload(
    *,
    seq: int,
    run: int,
    pharmacy: str,
    day: str,
    policy: str,
    reserve_pct: int,
    quota: int,
    requeued: int,
    reserve: int,
    general: int,
    buildings: Mapping[str, int] | None,
    seed: str | None,
    carried_first: bool,
    served: Sequence[Sequence[Any]],
    at_iso: str,
) -> dict[str, Any]:
    """One allocation run's vouchers in one committee, with the run's inputs.

    ``quota = requeued + reserve + general`` is what the committee got from the split;
    ``buildings`` the general share per building label (per-building policy);
    ``served`` lists ``[queue_number, fulfilment, slot start "HH:MM" or null]`` in
    issue order."""
    return {
        "v": FORMAT_VERSION,
        "kind": "allocation",
        "seq": seq,
        "run": run,
        "pharmacy": pharmacy,
        "day": day,
        "policy": policy,
        "reserve_pct": reserve_pct,
        "quota": quota,
        "requeued": requeued,
        "reserve": reserve,
        "general": general,
        "buildings": dict(buildings) if buildings is not None else None,
        "seed": seed,
        "carried_first": carried_first,
        "served": [list(item) for item in served],
        "at": at_iso,
    }


def redeemed_payload(*, seq: int, queue_numbers: Sequence[int], at_iso: str) -> dict[str, Any]:
    """Vouchers bought since the previous ``redeemed`` link (a batch)."""
    return {
        "v": FORMAT_VERSION,
        "kind": "redeemed",
        "seq": seq,
        "queue_numbers": list(queue_numbers),
        "at": at_iso,
    }


def expired_payload(*, seq: int, entries: Sequence[Sequence[Any]], at_iso: str) -> dict[str, Any]:
    """Vouchers expired unbought: ``[queue_number, "requeued" | "dropped"]`` in requeue
    order (requeued households are served first at the next allocation, in this order)."""
    return {
        "v": FORMAT_VERSION,
        "kind": "expired",
        "seq": seq,
        "entries": [list(item) for item in entries],
        "at": at_iso,
    }


def carried_payload(
    *, seq: int, to_round: int, queue_numbers: Sequence[int], at_iso: str
) -> dict[str, Any]:
    """The unserved households carried into ``to_round`` (this chain serves no more)."""
    return {
        "v": FORMAT_VERSION,
        "kind": "carried",
        "seq": seq,
        "to_round": to_round,
        "queue_numbers": list(queue_numbers),
        "at": at_iso,
    }


def shortfall_payload(
    *, seq: int, pharmacy: str, day: str, packs: int, cancelled: Sequence[int], at_iso: str
) -> dict[str, Any]:
    """A confirmed day lowered to ``packs``: the latest-issued unbought vouchers of the
    day are cancelled; their households go back to the head of the queue, in this order."""
    return {
        "v": FORMAT_VERSION,
        "kind": "shortfall",
        "seq": seq,
        "pharmacy": pharmacy,
        "day": day,
        "packs": packs,
        "cancelled": list(cancelled),
        "at": at_iso,
    }


def emergency_payload(
    *, seq: int, queue_number: int, pharmacy: str, day: str, packs: int, at_iso: str
) -> dict[str, Any]:
    """Staff delivered ``packs`` of the pharmacy's ``day`` set-aside stock to the household
    of ``queue_number`` (channel ``emergency``), outside the queue order: it is served."""
    return {
        "v": FORMAT_VERSION,
        "kind": "emergency",
        "seq": seq,
        "queue_number": queue_number,
        "pharmacy": pharmacy,
        "day": day,
        "packs": packs,
        "at": at_iso,
    }


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(links: Iterable[Mapping[str, Any]]) -> tuple[str, ChainBreak | None]:
    """Check links given in order as mappings with ``seq``, ``payload`` (text),
    ``prev_hash`` and ``hash``. Returns (head hash, first break or None)."""
    prev = GENESIS
    expected_seq = 1
    for link in links:
        seq = int(link["seq"])
        if seq != expected_seq:
            return prev, ChainBreak(seq, f"expected link {expected_seq}, found {seq}")
        if link["prev_hash"] != prev:
            return prev, ChainBreak(seq, "prev_hash does not match the previous link")
        try:
            body = json.loads(link["payload"])
        except (TypeError, ValueError):
            return prev, ChainBreak(seq, "payload is not JSON")
        if canonical(body) != link["payload"] or body.get("seq") != seq:
            return prev, ChainBreak(seq, "payload is not in canonical form or names another seq")
        if link_hash(prev, link["payload"]) != link["hash"]:
            return prev, ChainBreak(seq, "hash does not match the payload")
        prev = link["hash"]
        expected_seq += 1
    return prev, None
