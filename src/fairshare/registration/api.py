"""Registration API: register a household (the contract in README.md, "The JSON API").

A ticket's status shows its voucher, so ``GET /registrations/{ticket}`` is in
``allocation/api.py``. Staff (bearer) correct a registration of their committees:
``PATCH /registrations/{id}`` (name and/or phone) and ``POST /registrations/{id}/move``
(a wrong building or room: void it and register the right household with the next
number); both accept an ``Idempotency-Key``, answer bad input 422 per field and a
registration outside the caller's committees 404 (``registration/corrections.py``).
"""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema

from fairshare.accounts.auth import bearer, optional_bearer
from fairshare.accounts.requests import StaffRequest
from fairshare.core.endpoints import Answer, Operation, write_endpoint
from fairshare.core.errors import NotFound
from fairshare.core.masking import mask_phone
from fairshare.core.ratelimit import ratelimit_enforce
from fairshare.core.schemas import Moment, MultiLineText
from fairshare.core.schemas import Schema as InputSchema
from fairshare.registration.corrections import registration_correct, registration_move
from fairshare.registration.lookup import household_resolve
from fairshare.registration.models import Registration
from fairshare.registration.selectors import staff_registrations
from fairshare.registration.services import registration_submit
from fairshare.registration.validation import normalize_phone

router = Router(tags=["registration"])


class RegistrationIn(InputSchema):
    committee: str
    building: str
    room: str
    name: str
    phone: str
    channel: str = "online"
    returned_recently: bool = False
    returned_from: str = ""
    returned_on: date | None = None
    # Staff only: the time written on the sheet or noted for a call (shown, never orders).
    written_at: Moment | None = None
    # Deprecated alias of ``written_at`` (the entry time is always the server's).
    acknowledged_at: Moment | None = None
    id_checked: bool = False
    sms_code: str | None = None


class RegistrationOut(Schema):
    ticket: str
    queue_number: int
    status: str
    committee: str
    round: int
    created: bool


class ErrorOut(Schema):
    detail: str
    code: str
    queue_number: int | None = None
    errors: dict[str, list[str]] | None = None


@router.post(
    "/rounds/{round_id}/registrations",
    auth=None,
    response={200: RegistrationOut, 201: RegistrationOut, 409: ErrorOut, 422: ErrorOut},
    summary="Register a household (anonymous: online; staff bearer: desk/phone/photo/sheet)",
)
@write_endpoint(group_commit=True)  # SQLite: a rush shares COMMITs (core/groupcommit.py)
def create_registration(request: HttpRequest, round_id: int, payload: RegistrationIn) -> Operation:
    actor = optional_bearer(request)
    if actor is None:
        ratelimit_enforce(
            name="register",
            request=request,
            phone=normalize_phone(payload.phone) or payload.phone[:32],
        )

    def register() -> Answer:
        result = registration_submit(
            round_id=round_id,
            committee_code=payload.committee,
            building=payload.building,
            room=payload.room,
            name=payload.name,
            phone=payload.phone,
            channel=payload.channel,
            actor=actor,
            written_at=payload.written_at or payload.acknowledged_at,
            returned_recently=payload.returned_recently,
            returned_from=payload.returned_from,
            returned_on=payload.returned_on,
            id_checked=payload.id_checked,
            phone_code=payload.sms_code,
        )
        reg = result.registration
        return (201 if result.created else 200), {
            "ticket": reg.ticket,
            "queue_number": reg.queue_number,
            "status": reg.status,
            "committee": reg.committee.code,
            "round": round_id,
            "created": result.created,
        }

    return register


class CorrectionIn(InputSchema):
    """Only the fields sent are corrected."""

    name: str | None = None
    phone: str | None = None
    note: MultiLineText = ""


class MoveIn(InputSchema):
    """The right address (the committee defaults to the registration's), and optionally
    another name or phone for the new registration."""

    committee: str | None = None
    building: str
    room: str
    name: str | None = None
    phone: str | None = None
    id_checked: bool = False
    note: MultiLineText = ""


def _staff_registration(request: StaffRequest, registration_id: int) -> Registration:
    found = staff_registrations(user=request.user).filter(pk=registration_id).first()
    if found is None:
        raise NotFound(_("No registration with this id in your committees."), code="not_found")
    return found


def _out(registration: Registration) -> dict[str, object]:
    return {
        "id": registration.pk,
        "ticket": registration.ticket,
        "queue_number": registration.queue_number,
        "committee": registration.committee.code,
        "round": registration.round_id,
        "status": registration.status,
        "name": registration.name,
        "phone": mask_phone(registration.phone),  # the stored answer keeps no full phone
    }


@router.patch(
    "/registrations/{int:registration_id}",
    auth=bearer,
    response={200: dict, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Correct a registration's name or phone (staff of its committee)",
)
@write_endpoint()
def correct_registration(
    request: StaffRequest, registration_id: int, payload: CorrectionIn
) -> Operation:
    registration = _staff_registration(request, registration_id)

    def correct() -> Answer:
        result = registration_correct(
            registration=registration,
            actor=request.user,
            name=payload.name,
            phone=payload.phone,
            note=payload.note,
        )
        return 200, {
            **_out(result.registration),
            "changed": list(result.changed),
            "roster_match": result.roster_match,
        }

    return correct


@router.post(
    "/registrations/{int:registration_id}/move",
    auth=bearer,
    response={200: dict, 201: dict, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="A wrong building or room: void the registration and register the right "
    "household with the next queue number (staff)",
)
@write_endpoint()
def move_registration(request: StaffRequest, registration_id: int, payload: MoveIn) -> Operation:
    registration = _staff_registration(request, registration_id)

    def move() -> Answer:
        household = household_resolve(
            committee_code=payload.committee or registration.committee.code,
            building=payload.building,
            room=payload.room,
        )
        result = registration_move(
            registration=registration,
            actor=request.user,
            household=household,
            name=payload.name,
            phone=payload.phone,
            id_checked=payload.id_checked,
            note=payload.note,
        )
        return (201 if result.created else 200), {
            "voided": _out(result.voided),
            "registration": _out(result.registration),
            "created": result.created,
        }

    return move
