"""Who may call the transparency endpoints (issue 6): declarations for the access matrix.

Boards, maps, posters, ledger exports, stats and notices are public (masked fields
only: docs/invariants.md, invariant 6).
The staff map, dashboards and XLSX exports are for committee staff
(and helpers) of the committee and the admins of its subdistrict / district; notices
are published by subdistrict (or district) admins, who also take signed ledger
checkpoints on demand (the latest checkpoint is public).
"""

from __future__ import annotations

from typing import Any

from tests.accounts.access_registry import Ctx, public, staff

OVERSIGHT = ("district", "subdistrict", "committee")
AREA = ("district", "subdistrict")


def _board(c: Ctx) -> dict[str, Any]:
    return {"round_id": c.round.pk, "code": c.committee.code}


ENTRIES = {
    # --- API -------------------------------------------------------------------
    ("GET", "/api/v1/stats/rounds/{round_id}"): public(
        params=lambda c: {"round_id": c.round.pk},
        query=lambda c: {"committee": c.committee.code},
        bearer_checked=True,  # accounts.auth.optional_bearer
    ),
    ("GET", "/api/v1/public/rounds/{round_id}/committees/{code}/board"): public(params=_board),
    ("GET", "/api/v1/public/rounds/{round_id}/committees/{code}/export"): public(params=_board),
    ("GET", "/api/v1/public/notices"): public(query=lambda c: {"subdistrict": c.subdistrict.code}),
    # Signed ledger checkpoints (issue 18): the latest is public (404 before the first);
    # district and subdistrict staff take one on demand (201, or 409 on a broken chain).
    ("GET", "/api/v1/public/ledger/checkpoints/latest"): public(),
    ("POST", "/api/v1/ledger/checkpoints"): staff(*AREA, scoped=False),
    # --- public pages ----------------------------------------------------------
    ("GET", "/public/rounds/<int:round_id>/"): public(params=lambda c: {"round_id": c.round.pk}),
    ("GET", "/public/rounds/<int:round_id>/committees/<str:code>/"): public(params=_board),
    ("GET", "/public/rounds/<int:round_id>/committees/<str:code>/export.json"): public(
        params=_board
    ),
    ("GET", "/public/rounds/<int:round_id>/committees/<str:code>/map/"): public(params=_board),
    ("GET", "/public/rounds/<int:round_id>/committees/<str:code>/poster.pdf"): public(
        params=_board
    ),
    # --- staff pages -----------------------------------------------------------
    ("GET", "/public/staff/rounds/<int:round_id>/committees/<str:code>/map/"): staff(
        *OVERSIGHT, params=_board, own=frozenset({200})
    ),
    ("GET", "/public/staff/rounds/<int:round_id>/dashboard/"): staff(
        *OVERSIGHT,
        params=lambda c: {"round_id": c.round.pk},
        query=lambda c: {"committee": c.committee.code},
        own=frozenset({200}),
    ),
    ("GET", "/public/staff/rounds/<int:round_id>/export/<str:kind>.xlsx"): staff(
        *OVERSIGHT,
        params=lambda c: {"round_id": c.round.pk, "kind": "registrations"},
        query=lambda c: {"committee": c.committee.code},
        own=frozenset({200}),
    ),
    ("GET", "/public/staff/notices/"): staff(*AREA, scoped=False, own=frozenset({200})),
    ("POST", "/public/staff/ledger/checkpoints/"): staff(*AREA, scoped=False, own=frozenset({302})),
    ("POST", "/public/staff/notices/"): staff(
        *AREA,
        body=lambda c: {
            "subdistrict": c.subdistrict.code,
            "title": "价格说明",
            "body": "不同批次口罩价格不同。",
        },
        own=frozenset({302}),
        foreign=frozenset({403, 404, 422}),
    ),
}
