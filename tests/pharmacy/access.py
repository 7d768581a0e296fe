"""Who may call the pharmacy endpoints (issue 5): declarations for the access matrix.

Only pharmacy staff use the terminal (pages, redeem, offline sync); a voucher is looked
up by its own pharmacy and by staff whose scope covers its committee; committee staff
(and helpers) buy on behalf of their residents and record hand-overs and deliveries;
a pharmacy's reconciliation is for that pharmacy and its subdistrict / district (it
lists voucher codes of every committee the pharmacy serves, so not for one committee).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tests.accounts.access_registry import public, staff

TERMINAL = "pharmacy"
COMMITTEE = "committee"
AREA = ("district", "subdistrict")


def _committee(c: Any) -> dict[str, Any]:
    return {"code": c.committee.code}


def _pickup_point(c: Any) -> dict[str, Any]:
    """A pickup point of the target committee (its batch bought nothing: a page to show)."""
    from fairshare.pharmacy.models import PickupPoint, ProxyBatch

    batch = ProxyBatch.objects.create(
        committee=c.committee, pharmacy=c.pharmacy, actor=c.side.users["committee"]
    )
    now = timezone.now()
    point = PickupPoint.objects.create(
        committee=c.committee,
        batch=batch,
        place="居委会活动室",
        starts_at=now,
        ends_at=now + timedelta(hours=2),
    )
    return {"code": c.committee.code, "pk": point.pk}


ENTRIES = {
    # --- API -------------------------------------------------------------------
    ("GET", "/api/v1/public/voucher-key"): public(),
    ("GET", "/api/v1/public/pharmacies"): public(),
    ("GET", "/api/v1/public/pharmacies.csv"): public(),
    ("GET", "/api/v1/vouchers/{code}"): staff(
        params=lambda c: {"code": c.voucher.code}, own=frozenset({200})
    ),
    ("POST", "/api/v1/vouchers/{code}/redeem"): staff(
        TERMINAL, params=lambda c: {"code": c.voucher.code}, own=frozenset({200})
    ),
    ("POST", "/api/v1/pharmacies/{code}/offline-redemptions"): staff(
        TERMINAL,
        params=lambda c: {"code": c.pharmacy.code},
        body=lambda c: {
            "batch_id": f"matrix-{c.role}",
            "items": [{"code": c.voucher.code, "redeemed_at": timezone.now().isoformat()}],
        },
        own=frozenset({200}),
    ),
    ("GET", "/api/v1/pharmacies/{code}/reconciliation"): staff(
        TERMINAL, *AREA, params=lambda c: {"code": c.pharmacy.code}, own=frozenset({200})
    ),
    ("POST", "/api/v1/committees/{code}/proxy-purchases"): staff(
        "committee",
        params=lambda c: {"code": c.committee.code},
        body=lambda c: {"codes": [c.voucher.code]},
        own=frozenset({200}),
    ),
    ("POST", "/api/v1/vouchers/{code}/handover"): staff(
        "committee",
        *AREA,
        params=lambda c: {"code": c.redeemed_voucher.code},
        body=lambda c: {"recipient_name": "王阿姨"},
        own=frozenset({200}),
    ),
    ("POST", "/api/v1/vouchers/{code}/delivery"): staff(
        "committee",
        *AREA,
        params=lambda c: {"code": c.redeemed_voucher.code},
        body=lambda c: {"recipient_name": "王阿姨"},
        own=frozenset({200}),
    ),
    # --- terminal pages (the user's own pharmacy; no identifiers in the URL) -----
    ("GET", "/pharmacy/"): staff(TERMINAL, scoped=False, own=frozenset({200})),
    ("GET", "/pharmacy/scan/"): staff(TERMINAL, scoped=False, own=frozenset({200})),
    ("POST", "/pharmacy/scan/"): staff(
        TERMINAL, body=lambda c: {"code": c.voucher.code, "action": "lookup"}, own=frozenset({200})
    ),
    ("GET", "/pharmacy/sw.js"): public(),  # the terminal's service worker (no data in it)
    ("GET", "/pharmacy/reconciliation/"): staff(TERMINAL, scoped=False, own=frozenset({200})),
    ("GET", "/pharmacy/reconciliation.xlsx"): staff(TERMINAL, scoped=False, own=frozenset({200})),
    # Committee pages for proxy purchase / delivery and pickup points: the committee's
    # staff and its area admins (another area's: 404).
    ("GET", "/pharmacy/committees/<str:code>/fulfilment/"): staff(
        COMMITTEE, *AREA, params=_committee, own=frozenset({200})
    ),
    ("GET", "/pharmacy/committees/<str:code>/pickup/"): staff(
        COMMITTEE, *AREA, params=_committee, own=frozenset({200})
    ),
    ("GET", "/pharmacy/committees/<str:code>/pickup/<int:pk>/"): staff(
        COMMITTEE, *AREA, params=_pickup_point, own=frozenset({200})
    ),
    ("GET", "/pharmacy/committees/<str:code>/pickup/<int:pk>.pdf"): staff(
        COMMITTEE, *AREA, params=_pickup_point, own=frozenset({200})
    ),
}
