"""Two complete, disjoint scopes ("a" and "b") for the role × endpoint matrix.

Each side has a district, subdistrict, pharmacy, two committees (the second for the
helper's home), a household with a registration and a voucher, an audit entry, and
one user (with an API token) per role. Strings in ``markers`` are private to the
side: a response to a user of the other side must never contain them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from fairshare.accounts.models import ApiToken, CommitteeAssignment, User
from fairshare.core.audit import audit_record
from tests.factories import (
    CommitteeFactory,
    DistrictFactory,
    HouseholdFactory,
    PharmacyFactory,
    RegistrationFactory,
    RoundFactory,
    SubdistrictFactory,
    UserFactory,
    VoucherFactory,
)

PASSWORD = "pw-for-tests-1"
ROLES = ("district", "subdistrict", "committee", "helper", "pharmacy")


@dataclass
class Side:
    key: str
    district: Any = None
    subdistrict: Any = None
    pharmacy: Any = None
    committee: Any = None
    other_committee: Any = None
    household: Any = None
    round: Any = None
    registration: Any = None
    voucher: Any = None
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # role → raw bearer token
    token_rows: dict[str, ApiToken] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)  # private strings of this side
    pii: list[str] = field(default_factory=list)  # full name and phone: never public


def _token(user: User, side: Side, role: str) -> None:
    raw = f"tok-{side.key}-{role}-" + "x" * 20
    side.tokens[role] = raw
    side.token_rows[role] = ApiToken.objects.create(
        user=user, token_hash=ApiToken.hash(raw), label=f"{side.key}-{role}"
    )


def build_side(key: str, district_code: str, digit: str) -> Side:
    s = Side(key=key)
    s.district = DistrictFactory(code=district_code, name=f"区{key}")
    s.subdistrict = SubdistrictFactory(district=s.district)
    s.pharmacy = PharmacyFactory(subdistrict=s.subdistrict)
    s.committee = CommitteeFactory(subdistrict=s.subdistrict, pharmacy=s.pharmacy)
    s.other_committee = CommitteeFactory(subdistrict=s.subdistrict, pharmacy=s.pharmacy)
    s.household = HouseholdFactory(building__committee=s.committee)
    s.round = RoundFactory(district=s.district)
    name = "甲秘密人" if key == "a" else "乙秘密人"
    phone = f"139{digit * 4}{digit * 4}"
    s.registration = RegistrationFactory(
        household=s.household,
        round=s.round,
        name=name,
        phone=phone,
        ticket=f"TKT{key.upper() * 4}{digit * 4}",
    )
    s.voucher = VoucherFactory(registration=s.registration)
    now = timezone.now()
    s.users["district"] = UserFactory(
        username=f"{key}-district", role="district", district=s.district
    )
    s.users["subdistrict"] = UserFactory(
        username=f"{key}-subdistrict", role="subdistrict", subdistrict=s.subdistrict
    )
    s.users["committee"] = UserFactory(
        username=f"{key}-committee", role="committee", committee=s.committee
    )
    helper = UserFactory(
        username=f"helper-{key}-7f3",
        role="committee",
        committee=s.other_committee,
        access_expires_at=now + timedelta(days=7),
    )
    CommitteeAssignment.objects.create(
        user=helper, committee=s.committee, expires_at=now + timedelta(days=7)
    )
    s.users["helper"] = helper
    s.users["pharmacy"] = UserFactory(
        username=f"{key}-pharmacy", role="pharmacy", pharmacy=s.pharmacy
    )
    s.users["expired"] = UserFactory(
        username=f"{key}-expired",
        role="committee",
        committee=s.committee,
        access_expires_at=now - timedelta(minutes=1),
    )
    for role, user in s.users.items():
        _token(user, s, role)
    note = f"AUDIT-SECRET-{key.upper()}"
    audit_record(
        actor=s.users["committee"],
        action="test.secret",
        obj=s.registration,
        committee_id=s.committee.pk,
        subdistrict_id=s.subdistrict.pk,
        note=note,
    )
    s.pii = [name, phone]
    s.markers = [name, phone, s.registration.ticket, s.voucher.code, note, helper.username]
    return s


@dataclass
class World:
    a: Side
    b: Side


def build_world() -> World:
    return World(a=build_side("a", "YPA", "1"), b=build_side("b", "HKB", "2"))
