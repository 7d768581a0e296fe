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
from typing import Any

from django.db.models import Count, Max, Q
from django.utils.translation import gettext_lazy as _

from fairshare.allocation.models import Voucher
from fairshare.community.models import Building, Committee, Household
from fairshare.core.errors import NotFound
from fairshare.core.masking import mask_name
from fairshare.registration.ledger import GENESIS
from fairshare.registration.models import Channel, LedgerEntry, QueueCounter, Registration
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import round_committees_q

STATUSES = {
    "not_registered": _("not registered"),
    "waiting": _("waiting"),
    "voucher_issued": _("voucher issued"),
    "bought": _("bought"),
    "void": _("void"),
}
CHANNEL_LABELS = dict(Channel.choices)
PUBLIC_FIELDS = ("queue_number", "name", "building", "room", "channel", "status")


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
        return {
            "round": self.round_id,
            "committee": self.committee_code,
            "head_hash": self.head_hash,
            "count": len(self.entries),
            "entries": [dict(e) for e in self.entries],
        }


_CACHE: OrderedDict[tuple, Board] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def _board_compute(*, round: Round, committee: Committee, head: str, links: int) -> Board:
    statuses = _household_statuses(round=round, committee=committee)
    rows = (
        Registration.objects.filter(round=round, committee=committee)
        .order_by("queue_number")
        .values_list(
            "queue_number",
            "name",
            "household__building__label",
            "household__room",
            "channel",
            "status",
            "household_id",
        )
    )
    entries = []
    for qn, name, building, room, channel, status, hh in rows.iterator(chunk_size=2000):
        shown = "void" if status == Registration.Status.VOID else statuses.get(hh, "waiting")
        entries.append(
            {
                "queue_number": qn,
                "name": mask_name(name),
                "building": building,
                "room": room,
                "channel": channel,
                "status": shown,
            }
        )
    return Board(round.pk, committee.code, head, links, tuple(entries))


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
