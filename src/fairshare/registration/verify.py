"""Re-verification of the transparency ledger (used by ``fairshare verify_ledger``).

Two checks per (round, committee) chain stored in the database:
1. the chain itself (hashes, order, canonical payloads) with ``ledger.verify_chain``;
2. every link against the stored registrations: a "registered" link's payload must
   equal the payload recomputed from its registration row (so editing a stored
   registration's name, building, room, channel, time or queue number breaks the
   chain at that link), a "voided" link must name a void registration, and the
   counter's head must be the last link.
An exported board (the JSON of ``selectors.ledger_export``) is checked offline
with check 1, its head hash, and the documented order checker (``ledger_order``,
docs/ledger.md): every allocation link served the first waiting households by the
policy's key (format 1 chains have no allocation links and pass it trivially).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fairshare.registration.ledger import GENESIS, verify_chain
from fairshare.registration.ledger_order import check_order
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
from fairshare.registration.selectors import registered_payload_for


@dataclass(frozen=True)
class ChainReport:
    round_id: Any
    committee: str
    links: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def _check_against_rows(entry: LedgerEntry) -> str:
    """Why the link disagrees with the stored registration, or "" when it agrees."""
    registration = entry.registration
    if registration is None:
        return "the link names no registration"
    body = json.loads(entry.payload)
    if entry.kind == LedgerEntry.Kind.REGISTERED:
        expected = registered_payload_for(registration, seq=entry.seq)
        if registration.personal_data_purged_at is not None:
            # After the personal-data purge the name is gone from the row; the masked
            # name in the link cannot be re-derived, so it is the one field not compared
            # (the hash chain itself still proves the link unchanged).
            expected["name"] = body.get("name")
        if body != expected:
            fields = sorted(k for k in expected if body.get(k) != expected[k])
            return f"stored registration differs from the link ({', '.join(fields)})"
        if (registration.round_id, registration.committee_id) != (
            entry.round_id,
            entry.committee_id,
        ):
            return "stored registration belongs to another round or committee"
    elif entry.kind == LedgerEntry.Kind.VOIDED:
        if registration.status != Registration.Status.VOID:
            return "a voided link names a registration that is not void"
        if body.get("queue_number") != registration.queue_number:
            return "stored registration's queue number differs from the voided link"
        if body.get("reason") != registration.void_reason.split(":")[0]:
            return "stored void reason differs from the voided link"
    else:
        return f"unknown link kind {entry.kind!r}"
    return ""


def verify_database_chain(*, round_id: int, committee_id: int, committee_code: str) -> ChainReport:
    entries = list(
        LedgerEntry.objects.filter(round_id=round_id, committee_id=committee_id)
        .select_related("registration__household__building")
        .order_by("seq")
    )
    links = [
        {"seq": e.seq, "payload": e.payload, "prev_hash": e.prev_hash, "hash": e.hash}
        for e in entries
    ]
    head, chain_break = verify_chain(links)
    if chain_break is not None:
        return ChainReport(
            round_id, committee_code, len(links), head, chain_break.seq, chain_break.reason
        )
    for entry in entries:
        reason = _check_against_rows(entry)
        if reason:
            return ChainReport(round_id, committee_code, len(links), head, entry.seq, reason)
    registered_ids = {
        e.registration_id
        for e in entries
        if e.kind == LedgerEntry.Kind.REGISTERED and e.registration_id is not None
    }
    missing = (
        Registration.objects.filter(round_id=round_id, committee_id=committee_id)
        .exclude(pk__in=registered_ids)
        .order_by("queue_number")
        .first()
    )
    if missing is not None:
        return ChainReport(
            round_id,
            committee_code,
            len(links),
            head,
            len(links) + 1,
            f"registration with queue number {missing.queue_number} has no link",
        )
    counter = QueueCounter.objects.filter(round_id=round_id, committee_id=committee_id).first()
    if counter is not None and (counter.head_hash, counter.ledger_seq) != (head, len(links)):
        return ChainReport(
            round_id,
            committee_code,
            len(links),
            head,
            len(links),
            "the queue counter's head hash does not match the last link",
        )
    return ChainReport(round_id, committee_code, len(links), head)


def verify_database(*, round_id: int | None = None) -> list[ChainReport]:
    pairs = LedgerEntry.objects.values_list("round_id", "committee_id", "committee__code")
    counters = QueueCounter.objects.values_list("round_id", "committee_id", "committee__code")
    if round_id is not None:
        pairs = pairs.filter(round_id=round_id)
        counters = counters.filter(round_id=round_id)
    chains = sorted(set(pairs.distinct()) | set(counters))
    return [
        verify_database_chain(round_id=r, committee_id=c, committee_code=code)
        for r, c, code in chains
    ]


def verify_export(data: Any) -> ChainReport:
    """Check an exported board (``selectors.ledger_export`` shape) without a database."""
    if not isinstance(data, dict) or not isinstance(data.get("links"), list):
        return ChainReport(None, "?", 0, GENESIS, 0, "not an exported board (no links list)")
    round_id, committee = data.get("round"), str(data.get("committee", "?"))
    links = data["links"]
    try:
        head, chain_break = verify_chain(links)
    except (KeyError, TypeError, ValueError) as exc:
        return ChainReport(round_id, committee, len(links), GENESIS, 0, f"malformed link: {exc}")
    if chain_break is not None:
        return ChainReport(
            round_id, committee, len(links), head, chain_break.seq, chain_break.reason
        )
    if data.get("head_hash") != head:
        return ChainReport(
            round_id,
            committee,
            len(links),
            head,
            len(links),
            "the published head hash does not match the last link",
        )
    return _order_report(data, ChainReport(round_id, committee, len(links), head))


def _order_report(data: dict[str, Any], report: ChainReport) -> ChainReport:
    """The documented order checker (``ledger_order``, docs/ledger.md) on a verified
    export: the first allocation link that did not serve the households due."""
    try:
        problems = check_order(data)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        problems = [f"link ?: an event names an unknown registration or field ({exc!r})"]
    if not problems:
        return report
    found = re.match(r"link (\d+): ", problems[0])
    seq = int(found.group(1)) if found else report.links
    reason = f"order: {problems[0]}" + (f" (+{len(problems) - 1} more)" if problems[1:] else "")
    return ChainReport(
        report.round_id, report.committee, report.links, report.head_hash, seq, reason
    )
