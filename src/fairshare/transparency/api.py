"""Public oversight API: stats, boards, ledger exports, signed checkpoints and notices."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Router, Schema

from fairshare.accounts.auth import bearer, optional_bearer
from fairshare.accounts.permissions import is_area_staff
from fairshare.accounts.requests import StaffRequest
from fairshare.core.endpoints import Answer, Operation, write_endpoint
from fairshare.core.errors import Forbidden, NotFound
from fairshare.core.schemas import SingleLine
from fairshare.rounds.selectors import round_get
from fairshare.transparency.board import (
    board_get,
    board_labels,
    board_search,
    committee_for_board,
    entry_out,
)
from fairshare.transparency.checkpoints import (
    checkpoint_broken_message,
    checkpoint_latest,
    checkpoint_out,
    checkpoint_take,
    export_with_checkpoint,
)
from fairshare.transparency.policy import policy_statement
from fairshare.transparency.selectors import (
    area_resolve,
    notices_for,
    stats_for,
    user_covers,
)

router = Router(tags=["transparency"])


class AreaOut(Schema):
    level: str
    code: str
    name: str


class DayOut(Schema):
    date: date
    registered: int
    supply: int
    issued: int
    redeemed: int


class ChannelOut(Schema):
    channel: str
    label: str
    registered: int


class PharmacyOut(Schema):
    pharmacy: str
    name: str
    supply: int
    issued: int
    redeemed: int


class StatsOut(Schema):
    round: int
    area: AreaOut
    households: int
    registered: int
    registered_pct: float
    vouchers_issued: int
    redeemed: int
    served_pct: float
    by_day: list[DayOut]
    by_channel: list[ChannelOut]
    by_pharmacy: list[PharmacyOut]
    returnees: int | None = None


class ReasonOut(Schema):
    code: str
    label: str


class BoardEntryOut(Schema):
    queue_number: int
    name: str
    building: str
    room: str
    channel: str
    status: str
    entered_at: str
    written_at: str | None = None
    ahead_reason: ReasonOut | None = None


class PolicyLineOut(Schema):
    key: str
    label: str
    text: str


class LotteryOut(Schema):
    commitment: str | None
    seed: str | None
    seed_revealed: bool
    registration_closes_at: str
    commitment_text: str
    seed_text: str


class PolicyOut(Schema):
    policy: str
    policy_label: str
    offline_reserve_pct: int
    requeue_expired: bool
    voucher_valid_days: int
    review_gate: bool
    lottery: LotteryOut | None
    lines: list[PolicyLineOut]


class BoardOut(Schema):
    round: int
    committee: str
    head_hash: str
    count: int
    policy: PolicyOut
    labels: dict[str, str]
    entries: list[BoardEntryOut]
    export_url: str


class LinkOut(Schema):
    seq: int
    payload: str
    prev_hash: str
    hash: str


class ChainHeadOut(Schema):
    round: int
    committee: str
    links: int
    head: str


class ExportCheckpointOut(Schema):
    """The latest signed checkpoint (docs/ledger.md, "Signed checkpoints"); ``chain``: this
    chain's entry of the statement (null when the chain began after it)."""

    statement: str
    signature: str
    public_key: str
    chain: ChainHeadOut | None


class ExportOut(Schema):
    round: int
    committee: str
    head_hash: str
    links: list[LinkOut]
    checkpoint: ExportCheckpointOut | None


class CheckpointOut(Schema):
    id: int
    at: str
    alg: str
    chains: list[ChainHeadOut]
    statement: str
    signature: str
    public_key: str
    fingerprint: str


class NoticeOut(Schema):
    id: int
    subdistrict: str
    title: str
    body: str
    published_at: datetime


@router.get("/stats/rounds/{round_id}", response=StatsOut, auth=None)
def round_stats(
    request: HttpRequest, round_id: int, subdistrict: SingleLine = "", committee: SingleLine = ""
) -> dict[str, Any]:
    """Progress figures (public aggregates). `returnees` only for staff whose scope covers
    the area (send `Authorization: Bearer <token>`)."""
    rnd = round_get(round_id=round_id)
    area = area_resolve(round=rnd, subdistrict=subdistrict or None, committee=committee or None)
    user = optional_bearer(request)
    return stats_for(
        round=rnd,
        subdistrict=area.subdistrict if area.level == "subdistrict" else None,
        committee=area.committee,
        include_staff=user is not None and user_covers(user, area),
    )


@router.get("/public/rounds/{round_id}/committees/{code}/board", response=BoardOut, auth=None)
def public_board(
    request: HttpRequest,
    round_id: int,
    code: SingleLine,
    building: SingleLine = "",
    room: SingleLine = "",
) -> Any:
    """The masked public list with the ledger head hash and the round's policy statement;
    `building`/`room` filter it. Each entry: `entered_at` (fixes the queue number),
    `written_at` (sheet and phone entries: the time written on the sheet, never orders),
    `ahead_reason` (`{code, label}` when it was served ahead of an earlier waiting one:
    `requeued`, `review`, `offline_reserve`; see docs/open-data.md)."""
    rnd = round_get(round_id=round_id)
    committee = committee_for_board(round=rnd, code=code)
    board = board_get(round=rnd, committee=committee)
    export_url = f"/api/v1/public/rounds/{rnd.pk}/committees/{committee.code}/export"
    if not (building.strip() or room.strip()):
        # The whole board: serialize once per board version and language (3,000 rows
        # ≈ 60 ms otherwise).
        key = f"json:{translation.get_language()}"
        head = board.rendered.get(key)
        if head is None:  # the board's JSON object without its closing brace
            head = board.rendered[key] = json.dumps(board.as_dict(), ensure_ascii=False)[:-1]
        # The policy is read fresh: a revealed seed changes no registration or voucher.
        tail = json.dumps(
            {"policy": policy_statement(round=rnd), "export_url": export_url}, ensure_ascii=False
        )
        body = f"{head}, {tail[1:]}"
        return HttpResponse(body, content_type="application/json; charset=utf-8")
    entries = board_search(board.entries, building=building, room=room)
    return {
        "round": rnd.pk,
        "committee": committee.code,
        "head_hash": board.head_hash,
        "count": len(entries),
        "policy": policy_statement(round=rnd),
        "labels": board_labels(),
        "entries": [entry_out(e) for e in entries],
        "export_url": export_url,
    }


@router.get("/public/rounds/{round_id}/committees/{code}/export", response=ExportOut, auth=None)
def public_board_export(request: HttpRequest, round_id: int, code: SingleLine) -> dict[str, Any]:
    """The ledger links for `fairshare verify_ledger --file` (offline re-verification),
    with the latest signed checkpoint."""
    rnd = round_get(round_id=round_id)
    committee = committee_for_board(round=rnd, code=code)
    return export_with_checkpoint(round=rnd, committee=committee)


@router.get("/public/ledger/checkpoints/latest", response=CheckpointOut, auth=None)
def public_checkpoint_latest(request: HttpRequest) -> dict[str, Any]:
    """The latest signed checkpoint of every chain's head (404 before the first)."""
    latest = checkpoint_latest()
    if latest is None:
        raise NotFound(_("No ledger checkpoint has been taken yet."), code="no_checkpoint")
    return checkpoint_out(latest)


@router.post("/ledger/checkpoints", auth=bearer, response={201: CheckpointOut, 409: dict})
@write_endpoint()
def take_checkpoint(request: StaffRequest) -> Operation:
    """Verify every chain and sign its head now (district and subdistrict staff); 409 when
    a chain is broken (recorded in the audit log, not signed)."""
    if not is_area_staff(request.user):
        raise Forbidden(_("Only district and subdistrict staff take ledger checkpoints."))

    def take() -> Answer:
        result = checkpoint_take(actor=request.user)
        if result.checkpoint is None:
            return 409, {"detail": checkpoint_broken_message(result), "code": "ledger_broken"}
        return 201, checkpoint_out(result.checkpoint)

    return take


@router.get("/public/notices", response=list[NoticeOut], auth=None)
def public_notices(request: HttpRequest, subdistrict: SingleLine = "") -> list[dict[str, Any]]:
    """Official notices (答复口径) of a subdistrict, newest first."""
    return [
        {
            "id": n.pk,
            "subdistrict": subdistrict,
            "title": n.title,
            "body": n.body,
            "published_at": n.published_at,
        }
        for n in notices_for(subdistrict=subdistrict)
    ]
