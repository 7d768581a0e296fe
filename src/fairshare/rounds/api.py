from datetime import date, datetime

from django.http import HttpRequest
from ninja import Router, Schema

from fairshare.rounds.models import Round

router = Router(tags=["rounds"])


class RoundOut(Schema):
    id: int
    name: str
    district: str
    status: str
    policy: str
    registration_opens_at: datetime
    registration_closes_at: datetime
    valid_from: date
    valid_until: date
    pack_description: str
    packs_per_household: int
    phone_verification: bool


@router.get("/rounds", response=list[RoundOut], auth=None)
def list_rounds(request: HttpRequest):
    return [
        {
            **{f: getattr(r, f) for f in RoundOut.model_fields if f != "district"},
            "district": r.district.code,
        }
        for r in Round.objects.select_related("district").order_by("-registration_opens_at", "id")
    ]
