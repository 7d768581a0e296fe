"""The transparency ledger: a hash chain per (round, committee) over public fields only.

Format (version 1), also documented in the README so anyone can re-verify a board:

* each link's ``payload`` is canonical JSON: keys sorted, no spaces, UTF-8, no ASCII
  escaping (``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``);
* ``hash = sha256_hex(prev_hash + "\\n" + payload)``; the first link's ``prev_hash`` is
  64 zeros; the head hash is the hash of the last link;
* a registration link's payload holds: ``v`` (1), ``kind`` ("registered"), ``seq``,
  ``queue_number``, ``name`` (masked), ``building``, ``room``, ``channel``, ``at``
  (ISO 8601 acknowledgement time with offset);
* a correction is a new link (``kind`` "voided", with ``queue_number`` and ``reason``);
  earlier links are never rewritten. A pending registration superseded by its
  household's roster-matching one (``registration/supersede.py``) is such a link with
  the reason ``superseded``, appended just before the new registration's link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
FORMAT_VERSION = 1
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
) -> dict[str, Any]:
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
    }


def voided_payload(*, seq: int, queue_number: int, reason: str, at_iso: str) -> dict[str, Any]:
    return {
        "v": FORMAT_VERSION,
        "kind": "voided",
        "seq": seq,
        "queue_number": queue_number,
        "reason": reason,
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
