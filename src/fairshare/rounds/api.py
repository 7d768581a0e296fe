"""The public list of rounds (``GET /rounds``, served by ``allocation/round_api.py``
beside the staff calls on the same path: one router per path)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema

from fairshare.rounds.models import Round


class RoundOut(Schema):
    id: int
    name: str
    district: str
    subdistrict: str | None = None
    status: str
    policy: str
    registration_opens_at: datetime
    registration_closes_at: datetime
    valid_from: date
    valid_until: date
    pack_description: str
    packs_per_household: int
    phone_verification: bool
    desk_id_check_required: bool


def rounds_public() -> list[dict[str, Any]]:
    rounds = Round.objects.select_related("district", "subdistrict").order_by(
        "-registration_opens_at", "id"
    )
    return [
        {
            **{
                f: getattr(r, f)
                for f in RoundOut.model_fields
                if f not in ("district", "subdistrict")
            },
            "district": r.district.code,
            "subdistrict": r.subdistrict.code if r.subdistrict is not None else None,
        }
        for r in rounds
    ]
