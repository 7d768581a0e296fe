from django.http import HttpRequest
from ninja import Router, Schema

from fairshare.community.selectors import committee_get, committee_list, household_addresses
from fairshare.core.schemas import SingleLine

router = Router(tags=["community"])


class CommitteeOut(Schema):
    code: str
    name: str
    subdistrict: str
    pharmacy: str
    pharmacy_name: str
    address: str


class HouseholdOut(Schema):
    building: str
    compound: str
    room: str


@router.get("/committees", response=list[CommitteeOut], auth=None)
def list_committees(request: HttpRequest):
    return [
        {
            "code": c.code,
            "name": c.name,
            "subdistrict": c.subdistrict.code,
            "pharmacy": c.pharmacy.code,
            "pharmacy_name": c.pharmacy.name,
            "address": c.address,
        }
        for c in committee_list()
    ]


@router.get("/committees/{code}/households", response=list[HouseholdOut], auth=None)
def list_households(request: HttpRequest, code: SingleLine):
    committee = committee_get(code=code)
    return [
        {"building": h.building.label, "compound": h.building.compound, "room": h.room}
        for h in household_addresses(committee=committee)
    ]
