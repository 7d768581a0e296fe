"""Who may call the round life-cycle endpoints and pages (issue 19; docs/rounds.md).

District and subdistrict staff of the round's area; committee and pharmacy staff get
403. The rounds they act on are rounds of side a's subdistrict (which its subdistrict
staff manage), made once per side and state. Creating a round in another scope's
subdistrict is a per-field 422 (``subdistrict``), hence ``foreign`` includes 422.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tests.accounts.access_registry import Ctx, staff
from tests.factories import RoundFactory
from tests.rounds.conftest import round_body

AREA = ("district", "subdistrict")
OK = frozenset({200})
REDIRECT = frozenset({302})
REFUSED_FIELD = frozenset({403, 404, 422})


def _round(c: Ctx, status: str = "draft") -> Any:
    """A round of the side's subdistrict in ``status`` (made once per side)."""
    cache = c.side.__dict__.setdefault("_sub_rounds", {})
    if status not in cache:
        # Clear of the world's round and of each other (an edit re-checks overlaps).
        start = timezone.now() + timedelta(days=100 + 20 * len(cache))
        cache[status] = RoundFactory(
            district=c.district,
            subdistrict=c.subdistrict,
            status=status,
            name=f"sub-{status}-{c.side.key}",
            registration_opens_at=start,
            registration_closes_at=start + timedelta(days=3),
            valid_from=timezone.localtime(start).date() + timedelta(days=1),
            valid_until=timezone.localtime(start).date() + timedelta(days=5),
        )
    return cache[status]


def _rid(status: str = "draft"):
    return lambda c: {"round_id": _round(c, status).pk}


def _form(c: Ctx) -> dict[str, Any]:
    start = timezone.localtime(timezone.now() + timedelta(days=50))
    return {
        "name": "新一轮",
        "subdistrict": str(c.subdistrict.pk),
        "registration_opens_at": start.strftime("%Y-%m-%dT%H:%M"),
        "registration_closes_at": (start + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "valid_from": (start + timedelta(days=1)).date().isoformat(),
        "valid_until": (start + timedelta(days=3)).date().isoformat(),
        "policy": "fcfs",
        "offline_reserve_pct": "0",
    }


ENTRIES = {
    # --- API -------------------------------------------------------------------
    ("POST", "/api/v1/rounds"): staff(
        *AREA,
        body=lambda c: round_body(subdistrict=c.subdistrict.code),
        own=frozenset({201}),
        foreign=REFUSED_FIELD,
    ),
    ("PATCH", "/api/v1/rounds/{round_id}"): staff(
        *AREA, params=_rid(), body=lambda c: {"name": "改名"}, own=OK
    ),
    ("POST", "/api/v1/rounds/{round_id}/open"): staff(*AREA, params=_rid(), own=OK),
    ("POST", "/api/v1/rounds/{round_id}/close"): staff(*AREA, params=_rid("open"), own=OK),
    # A draft fcfs round: the lottery calls answer 409 (not a lottery round).
    ("POST", "/api/v1/rounds/{round_id}/lottery/commit"): staff(*AREA, params=_rid()),
    ("POST", "/api/v1/rounds/{round_id}/lottery/reveal"): staff(
        *AREA, params=_rid(), body=lambda c: {}
    ),
    ("POST", "/api/v1/rounds/{round_id}/expiry"): staff(
        *AREA, params=_rid("open"), body=lambda c: {}, own=OK
    ),
    ("POST", "/api/v1/rounds/{round_id}/carry-over"): staff(*AREA, params=_rid("open")),
    ("GET", "/api/v1/rounds/{round_id}/purge"): staff(*AREA, params=_rid("closed"), own=OK),
    ("POST", "/api/v1/rounds/{round_id}/purge"): staff(
        *AREA, params=_rid("closed"), body=lambda c: {"dry_run": True}, own=OK
    ),
    ("PUT", "/api/v1/committees/{code}/pharmacy"): staff(
        *AREA,
        params=lambda c: {"code": c.committee.code},
        body=lambda c: {"pharmacy": c.pharmacy.code},
        own=OK,
    ),
    # --- Pages -----------------------------------------------------------------
    ("GET", "/staff/rounds/"): staff(*AREA, scoped=False, own=OK),
    ("GET", "/staff/rounds/new/"): staff(*AREA, scoped=False, own=OK),
    ("POST", "/staff/rounds/new/"): staff(*AREA, body=_form, own=REDIRECT, foreign=REFUSED_FIELD),
    ("GET", "/staff/rounds/<int:round_id>/"): staff(*AREA, params=_rid(), own=OK),
    ("GET", "/staff/rounds/<int:round_id>/edit/"): staff(*AREA, params=_rid(), own=OK),
    ("POST", "/staff/rounds/<int:round_id>/mapping/"): staff(
        *AREA,
        params=_rid(),
        body=lambda c: {"committee": c.committee.code, "pharmacy": c.pharmacy.code},
        own=REDIRECT,
    ),
    ("POST", "/staff/rounds/<int:round_id>/<str:action>/"): staff(
        *AREA, params=lambda c: {"round_id": _round(c).pk, "action": "open"}, own=REDIRECT
    ),
}
