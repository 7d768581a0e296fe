"""Registration API: register a household (BRIEF contract).

A ticket's status shows its voucher, so ``GET /registrations/{ticket}`` is in
``allocation/api.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.errors import AuthenticationError

from fairshare.accounts.auth import bearer
from fairshare.core.api_errors import service_error_body
from fairshare.core.errors import FieldErrors, NotFound, ServiceError
from fairshare.core.fastsql import select_models
from fairshare.core.groupcommit import group_commit
from fairshare.core.idempotency import idempotent_call
from fairshare.core.ratelimit import RateLimited, ratelimit_enforce
from fairshare.registration.lookup import household_resolve
from fairshare.registration.services import registration_create
from fairshare.registration.validation import normalize_phone
from fairshare.rounds.models import Round

router = Router(tags=["registration"])


class RegistrationIn(Schema):
    committee: str
    building: str
    room: str
    name: str
    phone: str
    channel: str = "online"
    returned_recently: bool = False
    returned_from: str = ""
    returned_on: date | None = None
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


def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    from fairshare.api import api

    response = api.create_response(request, service_error_body(exc), status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _optional_staff(request: HttpRequest) -> Any:
    """The staff user of a bearer token, None for anonymous calls; 401 for a bad token."""
    if not request.headers.get("Authorization"):
        return None
    user = bearer(request)
    if user is None:
        raise AuthenticationError()
    return user


MAX_ID = 2**63 - 1  # bigint; a larger id is no round (and would overflow the driver)


def _round_or_404(round_id: int) -> Round:
    found = (
        select_models(Round, "id = %s", [round_id])  # hot path: no ORM compilation
        if 0 < round_id <= MAX_ID
        else []
    )
    round_obj = found[0] if found else None
    if round_obj is None:
        raise NotFound("未知的轮次 / Unknown round.", code="unknown_round")
    return round_obj


@router.post(
    "/rounds/{round_id}/registrations",
    auth=None,
    response={200: RegistrationOut, 201: RegistrationOut, 409: ErrorOut, 422: ErrorOut},
    summary="Register a household (anonymous: online; staff bearer: desk/phone/photo/sheet)",
)
def create_registration(request: HttpRequest, round_id: int, payload: RegistrationIn):
    round_obj = _round_or_404(round_id)
    actor = _optional_staff(request)
    try:
        if actor is None:
            ratelimit_enforce(
                name="register",
                request=request,
                phone=normalize_phone(payload.phone) or payload.phone[:32],
            )
    except RateLimited as exc:
        return _rate_limited(request, exc)
    if actor is None and payload.channel != "online":
        # Residents register online; the photo channel needs the upload page.
        raise FieldErrors({"channel": [_("Only committee staff can register on this channel.")]})
    household = household_resolve(
        committee_code=payload.committee, building=payload.building, room=payload.room
    )

    def call() -> tuple[int, Any]:
        try:
            result = registration_create(
                round=round_obj,
                household=household,
                name=payload.name,
                phone=payload.phone,
                channel=payload.channel,
                actor=actor,
                acknowledged_at=payload.acknowledged_at,
                returned_recently=payload.returned_recently,
                returned_from=payload.returned_from,
                returned_on=payload.returned_on,
                id_checked=payload.id_checked,
                phone_code=payload.sms_code,
            )
        except ServiceError as exc:
            return exc.status_code, service_error_body(exc)
        reg = result.registration
        body = {
            "ticket": reg.ticket,
            "queue_number": reg.queue_number,
            "status": reg.status,
            "committee": household.committee.code,
            "round": round_obj.pk,
            "created": result.created,
        }
        return (201 if result.created else 200), body

    scope = f"reg:{round_obj.pk}:{actor.pk if actor is not None else 'anon'}"
    key = request.headers.get("Idempotency-Key")
    data = payload.dict()
    # SQLite: concurrent registrations of this worker share one COMMIT (core/groupcommit.py).
    status, body = group_commit(
        lambda: idempotent_call(key=key, scope=scope, payload=data, call=call)
    )
    from fairshare.api import api

    return api.create_response(request, body, status=status)
