"""The round life cycle in the staff API (bearer tokens; docs/rounds.md).

* ``POST /rounds`` → 201 a draft round; ``PATCH /rounds/{id}`` the fields its state
  allows; ``POST /rounds/{id}/open`` and ``/close``;
* ``POST /rounds/{id}/lottery/commit`` and ``/lottery/reveal``; ``POST /rounds/{id}/expiry``
  and ``/carry-over``; ``GET /rounds/{id}/purge`` (the schedule) and ``POST`` (run it,
  ``confirm`` required);
* ``PUT /committees/{code}/pharmacy``: the committee's serving pharmacy.

District and subdistrict staff of the round's area (``round_actions``); others 403, an
unseen round 404; bad input 422 per field. Writes accept an ``Idempotency-Key``.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router

from fairshare.accounts.auth import bearer
from fairshare.accounts.requests import StaffRequest
from fairshare.allocation import round_actions as actions
from fairshare.core.endpoints import Answer, Operation, write_endpoint
from fairshare.core.errors import FieldErrors
from fairshare.core.schemas import Schema, SingleLine
from fairshare.rounds.api import RoundOut, rounds_public
from fairshare.rounds.services import round_close, round_create, round_open, round_update

router = Router(tags=["rounds"])


class RoundFields(Schema):
    name: str | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    valid_from: Date | None = None
    valid_until: Date | None = None
    policy: str | None = None
    offline_reserve_pct: int | None = None
    phone_verification: bool | None = None
    desk_id_check_required: bool | None = None
    carry_over_from: int | None = None
    pack_description: str | None = None
    packs_per_household: int | None = None
    voucher_valid_days: int | None = None
    requeue_expired: bool | None = None
    carried_first: bool | None = None


class RoundIn(RoundFields):
    name: str
    registration_opens_at: datetime
    registration_closes_at: datetime
    valid_from: Date
    valid_until: Date
    subdistrict: str | None = None
    district: str | None = None


class SeedIn(Schema):
    seed: str | None = None


class ExpiryIn(Schema):
    today: Date | None = None


class PurgeIn(Schema):
    confirm: bool = False
    dry_run: bool = False


class MappingIn(Schema):
    pharmacy: str


@router.get("/rounds", response=list[RoundOut], auth=None)
def list_rounds(request: HttpRequest) -> list[dict[str, Any]]:
    """Every round (public)."""
    return rounds_public()


def _set_values(payload: RoundFields) -> dict[str, Any]:
    """The fields sent (a null on a field that needs a value is a 422)."""
    data = payload.model_dump(exclude_unset=True, exclude={"subdistrict", "district"})
    nulls = [k for k, v in data.items() if v is None and k != "carry_over_from"]
    if nulls:
        raise FieldErrors({k: [_("This field needs a value.")] for k in nulls})
    return data


@router.post("/rounds", auth=bearer, response={201: dict})
@write_endpoint()
def create_round(request: StaffRequest, payload: RoundIn) -> Operation:
    user = actions.require_area_staff(request.user)
    area = actions.area_resolve(
        user=user, subdistrict=payload.subdistrict, district=payload.district
    )
    values = actions.round_values(
        user=user, data=_set_values(payload), district_id=area.district_id
    )

    def create() -> Answer:
        created = round_create(area=area, values=values, actor=user)
        return 201, actions.round_out(created)

    return create


@router.patch("/rounds/{round_id}", auth=bearer, response={200: dict})
@write_endpoint()
def update_round(request: StaffRequest, round_id: int, payload: RoundFields) -> Operation:
    round_ = actions.round_managed(request.user, round_id)
    values = actions.round_values(
        user=request.user, data=_set_values(payload), district_id=round_.district_id
    )
    return lambda: (
        200,
        actions.round_out(round_update(round=round_, values=values, actor=request.user)),
    )


@router.post("/rounds/{round_id}/open", auth=bearer, response={200: dict})
@write_endpoint()
def open_round(request: StaffRequest, round_id: int) -> Operation:
    round_ = actions.round_managed(request.user, round_id)
    return lambda: (200, actions.round_out(round_open(round=round_, actor=request.user)))


@router.post("/rounds/{round_id}/close", auth=bearer, response={200: dict})
@write_endpoint()
def close_round(request: StaffRequest, round_id: int) -> Operation:
    round_ = actions.round_managed(request.user, round_id)
    return lambda: (200, actions.round_out(round_close(round=round_, actor=request.user)))


@router.post("/rounds/{round_id}/lottery/commit", auth=bearer, response={200: dict})
@write_endpoint()
def commit_lottery(request: StaffRequest, round_id: int) -> Operation:
    round_ = actions.round_managed(request.user, round_id)
    return lambda: (200, actions.action_lottery_commit(user=request.user, round=round_))


@router.post("/rounds/{round_id}/lottery/reveal", auth=bearer, response={200: dict})
@write_endpoint()
def reveal_lottery(request: StaffRequest, round_id: int, payload: SeedIn) -> Operation:
    round_ = actions.round_managed(request.user, round_id)
    return lambda: (
        200,
        actions.action_lottery_reveal(user=request.user, round=round_, seed=payload.seed),
    )


@router.post("/rounds/{round_id}/expiry", auth=bearer, response={200: dict})
@write_endpoint()
def run_expiry(request: StaffRequest, round_id: int, payload: ExpiryIn) -> Operation:
    round_ = actions.round_managed(request.user, round_id)
    return lambda: (200, actions.action_expire(round=round_, today=payload.today))


@router.post("/rounds/{round_id}/carry-over", auth=bearer, response={200: dict})
@write_endpoint()
def run_carry_over(request: StaffRequest, round_id: int) -> Operation:
    round_ = actions.round_managed(request.user, round_id)
    return lambda: (200, actions.action_carry_over(user=request.user, round=round_))


@router.get("/rounds/{round_id}/purge", auth=bearer, response={200: dict})
def purge_schedule(request: StaffRequest, round_id: int) -> dict[str, Any]:
    return actions.purge_schedule(actions.round_visible(request.user, round_id))


@router.post("/rounds/{round_id}/purge", auth=bearer, response={200: dict})
@write_endpoint()
def run_purge(request: StaffRequest, round_id: int, payload: PurgeIn) -> Operation:
    round_ = actions.round_managed(request.user, round_id)
    if not payload.confirm and not payload.dry_run:
        raise FieldErrors({"confirm": [_("Confirm the purge: it cannot be undone.")]})
    return lambda: (
        200,
        actions.action_purge(user=request.user, round=round_, dry_run=payload.dry_run),
    )


@router.put("/committees/{code}/pharmacy", auth=bearer, response={200: dict})
@write_endpoint()
def set_committee_pharmacy(
    request: StaffRequest, code: SingleLine, payload: MappingIn
) -> Operation:
    def set_mapping() -> Answer:
        committee = actions.committee_mapping_set(
            user=request.user, code=code, pharmacy_code=payload.pharmacy
        )
        return 200, {"committee": committee.code, "pharmacy": committee.pharmacy.code}

    return set_mapping
