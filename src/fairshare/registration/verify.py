"""Re-verification of the transparency ledger (used by ``fairshare verify_ledger``).

Two checks per (round, committee) chain stored in the database:
1. the chain itself (hashes, order, canonical payloads) with ``ledger.verify_chain``;
2. every link against the stored rows, as far as that is cheap:

   * "registered": the payload must equal the one recomputed from its registration row
     (``selectors.registered_payload_for``), so editing a stored registration's name,
     building, room, channel, entry time, written time or queue number breaks the chain
     at that link. Format-1 links (``v`` 1) are compared without the format-2 fields.
     Two fields are not stored on the row and are re-derived:
     ``review`` — the status at registration is not kept, so the link's value must be
     consistent with the row and the rest of the chain: ``review`` true needs the row
     still pending, or verified with an "approved" link, or void with a "voided" link;
     ``review`` false needs the row verified or void (a pending row's link must say
     true). ``carried_from`` — the source round's chain (same committee) has a "carried"
     link into this round listing k households, which took queue numbers 1..k here:
     those links must name the source round, every other one null;
   * "voided" must name a void registration (queue number, reason); "approved" one that
     is no longer pending; "corrected" its registration's queue number, and the last
     correction of a name the row's (masked) name; a renamed registration's
     "registered" link is compared without its name;
   * the batch kinds (allocation, redeemed, expired, carried, shortfall, emergency) name no
     registration; the app that owns their rows registers the check of each
     (``register_row_check``: ``allocation/chain_checks.py``); a kind without one is
     accepted on its hashes alone;
   * every registration has its "registered" link, and the counter's head is the last
     link.
An exported board (the JSON of ``selectors.ledger_export``) is checked offline
with check 1, its head hash, and the documented order checker (``ledger_order``,
docs/ledger.md): every allocation link served the first waiting households by the
policy's key (format 1 chains have no allocation links and pass it trivially).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fairshare.core.masking import mask_name
from fairshare.registration.ledger import GENESIS, verify_chain
from fairshare.registration.ledger_order import check_order
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
from fairshare.registration.selectors import registered_payload_for
from fairshare.rounds.models import Round

# A check of a batch link against its rows: (entry, parsed payload) → "" or the reason.
RowCheck = Callable[[LedgerEntry, dict[str, Any]], str]
_ROW_CHECKS: dict[str, RowCheck] = {}
_REGISTRATION_KINDS = {
    LedgerEntry.Kind.REGISTERED,
    LedgerEntry.Kind.VOIDED,
    LedgerEntry.Kind.APPROVED,
    LedgerEntry.Kind.CORRECTED,
}
_FORMAT2_ONLY = ("review", "written_at", "carried_from")


def register_row_check(kind: str, check: RowCheck) -> None:
    """Register the row check of a batch link kind (called from an app's ``ready``)."""
    _ROW_CHECKS[kind] = check


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


@dataclass
class _Chain:
    """What the re-derived fields of a chain's "registered" links depend on."""

    approved: set[int] = field(default_factory=set)
    voided: set[int] = field(default_factory=set)
    carried_from: int | None = None  # the source round of a carry-over into this chain
    carried: int = 0  # how many households it carried (queue numbers 1..carried)
    # registration id → seq of its last "corrected" link of the name
    renamed: dict[int, int] = field(default_factory=dict)


def _chain_context(round_id: int, committee_id: int, entries: list[LedgerEntry]) -> _Chain:
    chain = _Chain()
    for e in entries:
        if e.kind == LedgerEntry.Kind.APPROVED and e.registration_id is not None:
            chain.approved.add(e.registration_id)
        elif e.kind == LedgerEntry.Kind.VOIDED and e.registration_id is not None:
            chain.voided.add(e.registration_id)
        elif (
            e.kind == LedgerEntry.Kind.CORRECTED
            and e.registration_id is not None
            and json.loads(e.payload).get("field") == "name"
        ):
            chain.renamed[e.registration_id] = e.seq
    source = Round.objects.filter(pk=round_id).values_list("carry_over_from_id", flat=True).first()
    if source is not None:
        for payload in LedgerEntry.objects.filter(
            round_id=source, committee_id=committee_id, kind=LedgerEntry.Kind.CARRIED
        ).values_list("payload", flat=True):
            body = json.loads(payload)
            if body.get("to_round") == round_id:
                chain.carried_from = source
                chain.carried += len(body.get("queue_numbers") or [])
    return chain


def _expected_review(registration: Registration, claimed: Any, chain: _Chain) -> bool:
    """The ``review`` value consistent with the row and the chain (module docstring)."""
    status = registration.status
    if status == Registration.Status.PENDING_REVIEW:
        return True
    if status == Registration.Status.VERIFIED:
        return registration.pk in chain.approved
    return claimed is True and registration.pk in chain.voided


def _registered_expected(entry: LedgerEntry, body: dict[str, Any], chain: _Chain) -> dict[str, Any]:
    registration = entry.registration
    assert registration is not None
    carried = chain.carried_from is not None and registration.queue_number <= chain.carried
    expected = registered_payload_for(
        registration,
        seq=entry.seq,
        review=_expected_review(registration, body.get("review"), chain),
        carried_from=chain.carried_from if carried else None,
    )
    if body.get("v") == 1:
        expected["v"] = 1
        for key in _FORMAT2_ONLY:
            expected.pop(key)
    if registration.pk in chain.renamed:
        # Corrected later: the row holds the new name, which its last "corrected" link
        # must show; the name as first registered is proven by the hash chain alone.
        expected["name"] = body.get("name")
    if registration.personal_data_purged_at is not None:
        # After the personal-data purge the name is gone from the row; the masked
        # name in the link cannot be re-derived, so it is the one field not compared
        # (the hash chain itself still proves the link unchanged).
        expected["name"] = body.get("name")
    return expected


def _check_registration_link(entry: LedgerEntry, body: dict[str, Any], chain: _Chain) -> str:
    """Why a link about one registration disagrees with its row, or ""."""
    registration = entry.registration
    if registration is None:
        return "the link names no registration"
    if (registration.round_id, registration.committee_id) != (
        entry.round_id,
        entry.committee_id,
    ):
        return "stored registration belongs to another round or committee"
    if entry.kind == LedgerEntry.Kind.REGISTERED:
        expected = _registered_expected(entry, body, chain)
        if body != expected:
            fields = sorted(k for k in expected if body.get(k) != expected[k])
            return f"stored registration differs from the link ({', '.join(fields)})"
        return ""
    if body.get("queue_number") != registration.queue_number:
        return f"stored registration's queue number differs from the {entry.kind} link"
    if entry.kind == LedgerEntry.Kind.VOIDED:
        if registration.status != Registration.Status.VOID:
            return "a voided link names a registration that is not void"
        if body.get("reason") != registration.void_reason.split(":")[0]:
            return "stored void reason differs from the voided link"
    elif (
        entry.kind == LedgerEntry.Kind.APPROVED
        and registration.status == Registration.Status.PENDING_REVIEW
    ):
        return "an approved link names a registration still pending review"
    elif (
        entry.kind == LedgerEntry.Kind.CORRECTED
        and chain.renamed.get(registration.pk) == entry.seq
        and registration.personal_data_purged_at is None
        and body.get("value") != mask_name(registration.name)
    ):
        return "stored name differs from its last corrected link"
    return ""


def _check_against_rows(entry: LedgerEntry, chain: _Chain) -> str:
    """Why the link disagrees with the stored rows, or "" when it agrees."""
    body = json.loads(entry.payload)
    if entry.kind in _REGISTRATION_KINDS:
        return _check_registration_link(entry, body, chain)
    if entry.kind not in LedgerEntry.Kind.values:
        return f"unknown link kind {entry.kind!r}"
    if entry.registration_id is not None:
        return f"a {entry.kind} link names a registration"
    check = _ROW_CHECKS.get(entry.kind)
    return check(entry, body) if check is not None else ""


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
    chain = _chain_context(round_id, committee_id, entries)
    for entry in entries:
        reason = _check_against_rows(entry, chain)
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
