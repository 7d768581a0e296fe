"""Who may call the allocation endpoints (issue 4): declarations for the access matrix.

From the allocation app's docstrings and the role scoping of ``accounts/scoping.py``
(staff see and change only their own committee / pharmacy / subdistrict):

* supply: that pharmacy's staff, or subdistrict / district staff of its area;
* allocation runs: subdistrict / district staff of the round's area only (committee
  and pharmacy staff get 403);
* voucher slips (API PDF, page PDF) and the staff voucher page: the committee's staff,
  its assigned helpers and the admins of its subdistrict / district (not pharmacies);
* fulfilment changes (pickup / proxy / delivery): committee staff and helpers, and the
  area admins.

The objects come from tests/accounts/world.py (supply declared and an allocation run
made through the real services, plus a waiting household and next day's supply).
"""

from __future__ import annotations

from typing import Any

from fairshare.registration.status_link import status_token_make
from tests.accounts.access_registry import Ctx, public, staff

AREA = ("district", "subdistrict")
COMMITTEE_AND_AREA = ("committee", *AREA)


def _supply(c: Ctx) -> dict[str, Any]:
    return {
        "date": c.next_supply_date.isoformat(),
        "packs": 40,
        "manufacturer": "某医疗用品厂",
        "style": "KN95",
        "unit_price": "15.00",
    }


def _mailbox(c: Ctx) -> dict[str, Any]:
    return {"round_id": c.round.pk, "committee_code": c.committee.code}


def _day(c: Ctx) -> dict[str, Any]:
    return {"date": c.supply_date.isoformat()}


def _committee(c: Ctx) -> dict[str, Any]:
    return {"code": c.committee.code}


ENTRIES = {
    # --- API -------------------------------------------------------------------
    ("POST", "/api/v1/pharmacies/{code}/supplies"): staff(
        "pharmacy",
        *AREA,
        params=lambda c: {"code": c.pharmacy.code},
        body=_supply,
        own=frozenset({201}),
    ),
    # The waiting household gets a voucher from next day's supply.
    ("POST", "/api/v1/rounds/{round_id}/allocations"): staff(
        *AREA,
        params=lambda c: {"round_id": c.round.pk},
        body=lambda c: {
            "date": c.next_supply_date.isoformat(),
            "pharmacy": c.pharmacy.code,
        },
        own=frozenset({201}),
    ),
    # Shortfall: who may declare the supply may lower it; without ``confirm`` it is the
    # confirmation step (200, nothing written).
    ("POST", "/api/v1/pharmacies/{code}/supplies/shortfall"): staff(
        "pharmacy",
        *AREA,
        params=lambda c: {"code": c.pharmacy.code},
        body=lambda c: {"date": c.supply_date.isoformat(), "packs": 0},
        own=frozenset({200}),
    ),
    ("GET", "/api/v1/committees/{code}/voucher-slips.pdf"): staff(
        *COMMITTEE_AND_AREA, params=_committee, query=_day, own=frozenset({200})
    ),
    ("POST", "/api/v1/vouchers/{code}/fulfilment"): staff(
        *COMMITTEE_AND_AREA,
        params=lambda c: {"code": c.allocated_voucher.code},
        body=lambda c: {"fulfilment": "proxy"},
        own=frozenset({200}),
    ),
    # The resident's own lookup (allocation/resident_views.status_lookup): the phone in
    # the body, never in the URL. Its answer holds no name or phone, so the public check
    # for personal data stays on (no pii_ok needed).
    ("POST", "/api/v1/registrations/{ticket}/status"): public(
        params=lambda c: {"ticket": c.registration.ticket},
        body=lambda c: {"phone": c.registration.phone},
    ),
    # --- resident pages ----------------------------------------------------------
    # The full privacy notice linked from every resident page (fairshare/urls.py).
    ("GET", "/privacy/"): public(),
    # Elder mode (长辈模式) on or off, then back to the page (core/elder.py).
    ("GET", "/elder/"): public(query=lambda c: {"on": "1", "next": "/"}, own=frozenset({302})),
    # The resident's signed personal status link (no name or phone on the page).
    ("GET", "/r/s/<str:token>/"): public(
        params=lambda c: {"token": status_token_make(c.registration)}
    ),
    # --- staff pages -----------------------------------------------------------
    ("GET", "/vouchers/committees/<str:code>/"): staff(
        *COMMITTEE_AND_AREA, params=_committee, query=_day, own=frozenset({200})
    ),
    ("GET", "/vouchers/committees/<str:code>/slips.pdf"): staff(
        *COMMITTEE_AND_AREA, params=_committee, query=_day, own=frozenset({200})
    ),
    # Supply form: the pharmacy's own staff and the area admins; another area's staff
    # naming this pharmacy get 404 (it is not among their pharmacies).
    ("GET", "/vouchers/supply/"): staff("pharmacy", *AREA, scoped=False, own=frozenset({200})),
    ("POST", "/vouchers/supply/"): staff(
        "pharmacy",
        *AREA,
        body=lambda c: {"pharmacy": c.pharmacy.code, **_supply(c)},
        own=frozenset({302}),
    ),
    ("GET", "/vouchers/supply/shortfall/"): staff(
        "pharmacy", *AREA, scoped=False, own=frozenset({200})
    ),
    # The first POST is the confirmation step (200, nothing written).
    ("POST", "/vouchers/supply/shortfall/"): staff(
        "pharmacy",
        *AREA,
        body=lambda c: {
            "pharmacy": c.pharmacy.code,
            "date": c.supply_date.isoformat(),
            "packs": "0",
        },
        own=frozenset({200}),
    ),
    # Pre-filled mailbox forms (issue 16): the desk's staff (committee and area admins).
    ("GET", "/vouchers/mailbox/<int:round_id>/<str:committee_code>/"): staff(
        *COMMITTEE_AND_AREA, params=_mailbox, own=frozenset({200})
    ),
    ("GET", "/vouchers/mailbox/<int:round_id>/<str:committee_code>/<int:building_id>.pdf"): staff(
        *COMMITTEE_AND_AREA,
        params=lambda c: {**_mailbox(c), "building_id": c.household.building_id},
        own=frozenset({200}),
    ),
    # Emergency deliveries of a committee: its staff and its area admins.
    ("GET", "/vouchers/committees/<str:code>/emergency/"): staff(
        *COMMITTEE_AND_AREA, params=_committee, own=frozenset({200})
    ),
    # The notify-by-hand list (full names): the committee's staff and its area admins.
    ("GET", "/vouchers/committees/<str:code>/by-hand/"): staff(
        *COMMITTEE_AND_AREA, params=_committee, own=frozenset({200})
    ),
    ("GET", "/vouchers/committees/<str:code>/by-hand.csv"): staff(
        *COMMITTEE_AND_AREA, params=_committee, own=frozenset({200})
    ),
    # Nothing ticked: a field error, nothing written (the told mark is tested in
    # tests/allocation/test_by_hand.py).
    ("POST", "/vouchers/committees/<str:code>/by-hand/"): staff(
        *COMMITTEE_AND_AREA, params=_committee, body=lambda c: {}, own=frozenset({422})
    ),
    # Allocation page: area admins only; a preview writes nothing. Another area's admin
    # naming this area's pharmacy is refused (422: not a pharmacy of their area).
    ("GET", "/vouchers/allocate/"): staff(*AREA, scoped=False, own=frozenset({200})),
    ("POST", "/vouchers/allocate/"): staff(
        *AREA,
        body=lambda c: {
            "round": str(c.round.pk),
            "date": c.next_supply_date.isoformat(),
            "pharmacy": c.pharmacy.code,
            "dry_run": "1",
        },
        own=frozenset({200}),
        foreign=frozenset({403, 404, 422}),
    ),
}
