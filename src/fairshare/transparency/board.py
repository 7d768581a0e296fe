"""The public board of a (round, committee): masked list, statuses, ledger export, map.

Only public fields ever leave this module: queue number, masked name, building,
room, channel, status, and the ledger links (whose payloads hold the same masked
fields). Full names, phones and ID numbers are never selected into a board row
except the name, which is masked before it is stored in the row.

A rendered board is cached in-process keyed by the ledger head hash and a cheap
"state version" of the committee's registrations and vouchers, so a posted board
is recomputed only after something changed.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.allocation.models import Requeue, Voucher
from fairshare.community.models import Building, Committee, Household
from fairshare.core.errors import NotFound
from fairshare.core.masking import mask_name
from fairshare.registration.ledger import GENESIS
from fairshare.registration.models import Channel, LedgerEntry, QueueCounter, Registration
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import round_committees_q
from fairshare.transparency.reasons import REASONS, Entry, VoucherRow, ahead_reasons

STATUSES = {
    "not_registered": _("not registered"),
    "waiting": _("waiting"),
    "held": _("waiting for review"),
    "voucher_issued": _("voucher issued"),
    "bought": _("bought"),
    "dropped": _("lost its place (voucher expired)"),
    "void": _("void"),
}
CHANNEL_LABELS = dict(Channel.choices)
# Channels whose registrations staff enter later, with the time written on the sheet.
WRITTEN_CHANNELS = frozenset({Channel.SHEET, Channel.PHONE})
TIME_LABELS = {
    "entered_at": _("entered (fixes the queue number; a sheet's lines in their order)"),
    "written_at": _("time written on the sheet (shown, never orders)"),
}
PUBLIC_FIELDS = (
    "queue_number",
    "name",
    "building",
    "room",
    "channel",
    "status",
    "entered_at",
    "written_at",
    "ahead_reason",
)


def committee_for_board(*, round: Round, code: str) -> Committee:
    committee = (
        Committee.objects.select_related("subdistrict", "pharmacy")
        .filter(round_committees_q(round), code=code)
        .first()
    )
    if committee is None:
        raise NotFound(_("Unknown committee."), code="unknown_committee")
    return committee


def head_hash_for(*, round: Round, committee: Committee) -> tuple[str, int]:
    """(head hash, number of ledger links) as posted by the queue counter."""
    counter = (
        QueueCounter.objects.filter(round=round, committee=committee)
        .values_list("head_hash", "ledger_seq")
        .first()
    )
    if counter is not None:
        return counter[0], counter[1]
    last = (
        LedgerEntry.objects.filter(round=round, committee=committee)
        .order_by("-seq")
        .values_list("hash", "seq")
        .first()
    )
    return (last[0], last[1]) if last else (GENESIS, 0)


def _household_statuses(*, round: Round, committee: Committee) -> dict[int, str]:
    """household id → "voucher_issued" | "bought" for live vouchers (one query)."""
    rows = Voucher.objects.filter(
        round=round,
        committee=committee,
        status__in=Voucher.LIVE_STATUSES,
    ).values_list("household_id", "status")
    return {
        hh: ("bought" if status == Voucher.Status.REDEEMED else "voucher_issued")
        for hh, status in rows
    }


def _state_version(*, round: Round, committee: Committee) -> tuple:
    regs = Registration.objects.filter(round=round, committee=committee).aggregate(
        n=Count("id"),
        void=Count("id", filter=Q(status=Registration.Status.VOID)),
        last=Max("id"),
        reviewed=Max("reviewed_at"),
    )
    vouchers = Voucher.objects.filter(round=round, committee=committee).aggregate(
        n=Count("id"),
        last=Max("id"),
        redeemed=Count("id", filter=Q(status=Voucher.Status.REDEEMED)),
        issued=Count("id", filter=Q(status=Voucher.Status.ISSUED)),
        at=Max("redeemed_at"),
        expired=Max("expired_at"),
    )
    return (tuple(sorted(regs.items())), tuple(sorted(vouchers.items())))


@dataclass(frozen=True)
class Board:
    round_id: int
    committee_code: str
    head_hash: str
    links: int
    entries: tuple[dict[str, Any], ...]
    # Rendered HTML table bodies per language (filled by views; not part of equality).
    rendered: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict[str, Any]:
        """The board as the API shows it, labels in the active language."""
        return {
            "round": self.round_id,
            "committee": self.committee_code,
            "head_hash": self.head_hash,
            "count": len(self.entries),
            "labels": board_labels(),
            "entries": [entry_out(e) for e in self.entries],
        }


def reason_out(code: str | None) -> dict[str, str] | None:
    """A reason code as the API shows it: ``{"code", "label"}`` (or None)."""
    return None if code is None else {"code": code, "label": str(REASONS[code])}


def entry_out(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "ahead_reason": reason_out(entry["ahead_reason"])}


def board_columns() -> dict[str, str]:
    """Column headings of the board (page and stacked cards), active language."""
    return {
        "queue_number": str(_("No.")),
        "name": str(_("Name")),
        "building": str(_("Building")),
        "room": str(_("Room")),
        "channel": str(_("Channel")),
        "entered_at": str(_("Entered")),
        "written_at": str(_("Written on the sheet")),
        "status": str(_("Status")),
        "ahead_reason": str(_("Served ahead because")),
    }


def board_labels() -> dict[str, str]:
    """Human labels of the board's codes and times (active language)."""
    return {
        **{f"status.{k}": str(v) for k, v in STATUSES.items()},
        **{f"reason.{k}": str(v) for k, v in REASONS.items()},
        **{k: str(v) for k, v in TIME_LABELS.items()},
    }


_CACHE: OrderedDict[tuple, Board] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def _local_iso(value: datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat(timespec="seconds")


def _board_records(
    *, round: Round, committee: Committee
) -> tuple[list[VoucherRow], list[tuple[int, int, str, datetime]]]:
    """The committee's vouchers and requeues of the round (two queries)."""
    vouchers = [
        VoucherRow(*row)
        for row in Voucher.objects.filter(round=round, committee=committee)
        .values_list("id", "household_id", "status", "issued_at", "expired_at")
        .iterator(chunk_size=2000)
    ]
    requeues = list(
        Requeue.objects.filter(round=round, registration__committee=committee).values_list(
            "voucher_id", "household_id", "outcome", "created_at"
        )
    )
    return vouchers, requeues


# Registration fields of a board row: those of ``reasons.Entry``, then the shown ones.
_ROW_FIELDS = (
    "id",
    "queue_number",
    "household_id",
    "household__building_id",
    "status",
    "channel",
    "ticket",
    "acknowledged_at",
    "reviewed_at",
    "name",
    "household__building__label",
    "household__room",
    "written_at",
)


def _entry_status(fact: Entry, statuses: dict[int, str], dropped: set[int]) -> str:
    """void, voucher_issued / bought (a live voucher), held (pending review), dropped
    (an expiry cost the household its place) or waiting."""
    if fact.status == Registration.Status.VOID:
        return "void"
    if fact.household_id in statuses:
        return statuses[fact.household_id]
    if fact.status == Registration.Status.PENDING_REVIEW:
        return "held"
    return "dropped" if fact.household_id in dropped else "waiting"


def _board_compute(*, round: Round, committee: Committee, head: str, links: int) -> Board:
    """Every entry with its status, times and reason (three queries; ``reasons.py``)."""
    vouchers, requeues = _board_records(round=round, committee=committee)
    statuses = {
        v.household_id: "bought" if v.status == Voucher.Status.REDEEMED else "voucher_issued"
        for v in vouchers
        if v.status in Voucher.LIVE_STATUSES
    }
    dropped = {hh for _v, hh, outcome, _at in requeues if outcome == Requeue.Outcome.DROPPED}
    rows = (
        Registration.objects.filter(round=round, committee=committee)
        .order_by("queue_number")
        .values_list(*_ROW_FIELDS)
    )
    shown = []
    facts = []
    for row in rows.iterator(chunk_size=2000):
        fact = Entry(*row[:9])
        facts.append(fact)
        name, building, room, written = row[9:]
        shown.append(
            {
                "queue_number": fact.queue_number,
                "name": mask_name(name),
                "building": building,
                "room": room,
                "channel": fact.channel,
                "status": _entry_status(fact, statuses, dropped),
                "entered_at": _local_iso(fact.acknowledged_at),
                "written_at": _local_iso(written) if fact.channel in WRITTEN_CHANNELS else None,
                "ahead_reason": None,
            }
        )
    reasons = ahead_reasons(round=round, entries=facts, vouchers=vouchers, requeues=requeues)
    for fact, entry in zip(facts, shown, strict=True):
        entry["ahead_reason"] = reasons.get(fact.id)
    return Board(round.pk, committee.code, head, links, tuple(shown))


def board_get(*, round: Round, committee: Committee, use_cache: bool = True) -> Board:
    """The whole masked board of a committee (cached by head hash + state version)."""
    head, links = head_hash_for(round=round, committee=committee)
    if not use_cache:
        return _board_compute(round=round, committee=committee, head=head, links=links)
    key = (round.pk, committee.pk, head, _state_version(round=round, committee=committee))
    with _CACHE_LOCK:
        board = _CACHE.get(key)
        if board is not None:
            _CACHE.move_to_end(key)
            return board
    board = _board_compute(round=round, committee=committee, head=head, links=links)
    with _CACHE_LOCK:
        _CACHE[key] = board
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return board


def board_cache_clear() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def _norm(value: str) -> str:
    value = (value or "").strip()
    return re.sub(r"[号栋幢室\s]+$", "", value)


def board_search(
    entries: tuple[dict[str, Any], ...] | list[dict[str, Any]],
    *,
    building: str = "",
    room: str = "",
) -> list[dict[str, Any]]:
    """Filter entries by building and room ("12", "12号" and "12栋" all match 12号)."""
    b, r = _norm(building)[:32], _norm(room)[:16]
    if not b and not r:
        return list(entries)
    return [
        e
        for e in entries
        if (not b or _norm(e["building"]) == b) and (not r or _norm(e["room"]) == r)
    ]


def board_export(*, round: Round, committee: Committee) -> dict[str, Any]:
    """The offline-verifiable export: {round, committee, head_hash, links: [...]}.

    The counter is read first and links are taken up to its sequence number, so a
    registration appended meanwhile cannot make the export inconsistent.
    """
    head, count = head_hash_for(round=round, committee=committee)
    links = [
        {"seq": seq, "payload": payload, "prev_hash": prev, "hash": h}
        for seq, payload, prev, h in LedgerEntry.objects.filter(
            round=round, committee=committee, seq__lte=count
        )
        .order_by("seq")
        .values_list("seq", "payload", "prev_hash", "hash")
        .iterator(chunk_size=2000)
    ]
    return {"round": round.pk, "committee": committee.code, "head_hash": head, "links": links}


# --- building map ----------------------------------------------------------------

_ROOM_RE = re.compile(r"^(\d{1,2})(\d{2})$")


def _floor_of(room: str) -> tuple[int | None, str]:
    m = _ROOM_RE.match(room.strip())
    return (int(m.group(1)), m.group(2)) if m else (None, room)


def building_map(*, round: Round, committee: Committee) -> list[dict[str, Any]]:
    """Buildings as blocks of floors × rooms with each household's status.

    Three queries: buildings, households, live registrations (+ one for vouchers).
    Cells carry ``household_id`` for the staff version; public views drop it.
    """
    statuses = _household_statuses(round=round, committee=committee)
    registered = set(
        Registration.objects.filter(round=round, committee=committee)
        .exclude(status=Registration.Status.VOID)
        .values_list("household_id", flat=True)
    )
    buildings = list(
        Building.objects.filter(committee=committee)
        .order_by("sort_order", "label")
        .values("id", "label", "compound", "floors")
    )
    by_building: dict[int, list[tuple[int, str]]] = {b["id"]: [] for b in buildings}
    for hh_id, building_id, room in Household.objects.filter(committee=committee).values_list(
        "id", "building_id", "room"
    ):
        by_building.setdefault(building_id, []).append((hh_id, room))
    result = []
    for b in buildings:
        floors: dict[int | None, list[dict[str, Any]]] = {}
        counts = dict.fromkeys(STATUSES, 0)
        for hh_id, room in sorted(by_building.get(b["id"], []), key=lambda x: _sort_room(x[1])):
            if hh_id in statuses:
                status = statuses[hh_id]
            elif hh_id in registered:
                status = "waiting"
            else:
                status = "not_registered"
            counts[status] += 1
            floor, _unit = _floor_of(room)
            floors.setdefault(floor, []).append(
                {"room": room, "status": status, "label": STATUSES[status], "household_id": hh_id}
            )
        ordered = sorted(floors.items(), key=lambda kv: (kv[0] is None, -(kv[0] or 0)))
        width = max((len(cells) for cells in floors.values()), default=0)
        result.append(
            {
                "label": b["label"],
                "compound": b["compound"],
                "floors": [{"floor": f, "cells": cells} for f, cells in ordered],
                "width": min(width, 12),
                "counts": counts,
            }
        )
    return result


def _sort_room(room: str) -> tuple:
    digits = "".join(ch for ch in room if ch.isdigit())
    return (int(digits) if digits else 0, room)
