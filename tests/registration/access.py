"""Who may call the registration endpoints (issue 3): declarations for the access matrix.

Residents (anonymous) register online, look up a ticket with its phone and open the
entry pages; committee staff and helpers (and their subdistrict / district admins,
whose scope covers the committee) use the desk, batch entry, slips and the review
queue; uploaded photos are shown only to the committee's own staff (issues 3 and 7).
"""

from __future__ import annotations

from typing import Any

from tests.accounts.access_registry import Ctx, public, staff

DESK = ("district", "subdistrict", "committee")


def _place(c: Ctx) -> dict[str, Any]:
    return {"round_id": c.round.pk, "committee_code": c.committee.code}


def _address(c: Ctx) -> str:
    return f"{c.free_household.building.label} {c.free_household.room}"


def _sheet(c: Ctx) -> dict[str, Any]:
    from fairshare.registration.models import BuildingSheet

    sheet = BuildingSheet.objects.create(
        round=c.round,
        committee=c.committee,
        building=c.free_household.building,
        code=f"T{BuildingSheet.objects.count():07d}",
    )
    return {"code": sheet.code}


def _api_registration(c: Ctx) -> dict[str, Any]:
    return {
        "committee": c.committee.code,
        "building": c.free_household.building.label,
        "room": c.free_household.room,
        "name": "王小五",
        "phone": "13800001234",
        "channel": "online",
    }


def _move(c: Ctx) -> dict[str, Any]:
    return {"building": c.free_household.building.label, "room": c.free_household.room}


ENTRIES = {
    # --- API -------------------------------------------------------------------
    ("POST", "/api/v1/rounds/{round_id}/registrations"): public(
        staff=DESK,
        params=lambda c: {"round_id": c.round.pk},
        body=_api_registration,
        own=frozenset({201}),
    ),
    ("GET", "/api/v1/registrations/{ticket}"): public(
        params=lambda c: {"ticket": c.registration.ticket},
        query=lambda c: {"phone": c.registration.phone},
    ),
    ("PATCH", "/api/v1/registrations/{registration_id}"): staff(
        *DESK,
        params=lambda c: {"registration_id": c.registration.pk},
        body=lambda c: {"name": "更正人", "phone": "13800009999"},
        own=frozenset({200}),
    ),
    ("POST", "/api/v1/registrations/{registration_id}/move"): staff(
        *DESK,
        params=lambda c: {"registration_id": c.waiting_registration.pk},
        body=_move,
        own=frozenset({201}),
    ),
    # --- resident pages --------------------------------------------------------
    ("GET", "/r/status/"): public(),
    ("POST", "/r/status/"): public(
        body=lambda c: {"ticket": c.registration.ticket, "phone": c.registration.phone},
        pii_ok=True,  # the resident's own lookup by ticket + phone
    ),
    ("GET", "/r/done/<str:ticket>/"): public(params=lambda c: {"ticket": c.registration.ticket}),
    ("GET", "/r/<int:round_id>/<str:committee_code>/"): public(params=_place),
    ("GET", "/r/<int:round_id>/<str:committee_code>/photo/"): public(params=_place),
    # The resident books a desk appointment time (issue 16); an empty form books nothing.
    ("GET", "/r/<int:round_id>/<str:committee_code>/appointment/"): public(params=_place),
    ("POST", "/r/<int:round_id>/<str:committee_code>/appointment/"): public(
        params=_place, body=lambda c: {"name": ""}
    ),
    ("GET", "/r/<int:round_id>/<str:committee_code>/poster/<int:building_id>/"): public(
        params=lambda c: {**_place(c), "building_id": c.household.building_id}
    ),
    # --- staff pages -----------------------------------------------------------
    ("GET", "/r/posters/<int:round_id>/<str:committee_code>/"): staff(
        *DESK, params=_place, own=frozenset({200})
    ),
    ("GET", "/r/posters/<int:round_id>/<str:committee_code>/all.pdf"): staff(
        *DESK, params=_place, own=frozenset({200})
    ),
    ("GET", "/r/desk/"): staff(*DESK, scoped=False, own=frozenset({302})),
    ("GET", "/r/desk/<int:round_id>/<str:committee_code>/"): staff(
        *DESK,
        params=_place,
        query=lambda c: {"q": f"{c.household.building.label} {c.household.room}"},
        own=frozenset({200}),
    ),
    ("POST", "/r/desk/<int:round_id>/<str:committee_code>/"): staff(
        *DESK,
        params=_place,
        body=lambda c: {
            "household": str(c.free_household.pk),
            "name": f"{c.side.key}-roster-member",
            "phone": "13800004321",
            "id_checked": "on",
        },
        own=frozenset({302}),
    ),
    ("GET", "/r/desk/<int:round_id>/<str:committee_code>/batch/"): staff(
        *DESK, params=_place, own=frozenset({200})
    ),
    ("POST", "/r/desk/<int:round_id>/<str:committee_code>/batch/"): staff(
        *DESK,
        params=_place,
        body=lambda c: {"rows": f"{_address(c)}, 王小六, 13800005678, 00:00", "channel": "sheet"},
        own=frozenset({200}),
    ),
    ("GET", "/r/desk/<int:round_id>/<str:committee_code>/sheets/"): staff(
        *DESK, params=_place, own=frozenset({200})
    ),
    ("POST", "/r/desk/<int:round_id>/<str:committee_code>/sheets/"): staff(
        *DESK,
        params=_place,
        body=lambda c: {"building": c.free_household.building.pk},
        own=frozenset({302}),
    ),
    ("GET", "/r/sheets/<str:code>/"): staff(*DESK, params=_sheet, own=frozenset({200})),
    ("POST", "/r/sheets/<str:code>/"): staff(
        *DESK,
        params=_sheet,
        body=lambda c: {"room_1": c.free_household.room, "name_1": "王小六", "time_1": "00:00"},
        own=frozenset({200, 422}),
    ),
    ("GET", "/r/sheets/<str:code>/pdf/"): staff(*DESK, params=_sheet, own=frozenset({200})),
    ("GET", "/r/desk/<int:round_id>/<str:committee_code>/appointments/"): staff(
        *DESK, params=_place, own=frozenset({200})
    ),
    ("POST", "/r/desk/<int:round_id>/<str:committee_code>/appointments/"): staff(
        *DESK,
        params=_place,
        body=lambda c: {"action": "open", "desk": "1"},
        own=frozenset({422}),
    ),
    ("GET", "/r/slip/<int:pk>/"): staff(
        *DESK, params=lambda c: {"pk": c.registration.pk}, own=frozenset({200})
    ),
    ("GET", "/r/review/"): staff(*DESK, scoped=False, own=frozenset({200})),
    # The confirmation page lists only the selected registrations in the caller's scope.
    ("POST", "/r/review/bulk/"): staff(
        *DESK,
        body=lambda c: {"ids": str(c.registration.pk)},
        scoped=False,
        own=frozenset({200}),
    ),
    ("GET", "/r/staff/<int:pk>/"): staff(
        *DESK, params=lambda c: {"pk": c.registration.pk}, own=frozenset({200})
    ),
    ("POST", "/r/staff/<int:pk>/correct/"): staff(
        *DESK,
        params=lambda c: {"pk": c.registration.pk},
        body=lambda c: {"name": "更正人", "phone": "13800009999"},
        own=frozenset({302}),
    ),
    ("POST", "/r/staff/<int:pk>/move/"): staff(
        *DESK,
        params=lambda c: {"pk": c.waiting_registration.pk},
        body=_move,
        own=frozenset({302}),
    ),
    ("POST", "/r/review/<int:pk>/<str:action>/"): staff(
        *DESK,
        params=lambda c: {"pk": c.registration.pk, "action": "approve"},
        own=frozenset({302}),
    ),
    # Photos: "visible only to that committee's staff" (issue 3), "served only to the
    # committee's staff" (issue 7): not to subdistrict or district admins.
    ("GET", "/r/photos/<int:pk>/"): staff(
        "committee", params=lambda c: {"pk": c.photo_registration.pk}, own=frozenset({200})
    ),
}
