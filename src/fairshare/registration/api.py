"""Registration API: register a household (the contract in README.md, "The JSON API").

A ticket's status shows its voucher, so ``GET /registrations/{ticket}`` is in
``allocation/api.py``.
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Router, Schema

from fairshare.accounts.auth import optional_bearer
from fairshare.core.endpoints import Answer, Operation, write_endpoint
from fairshare.core.ratelimit import ratelimit_enforce
from fairshare.core.schemas import Schema as InputSchema
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
    written_at: datetime | None = None
    # Deprecated alias of ``written_at`` (the entry time is always the server's).
    acknowledged_at: datetime | None = None
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
