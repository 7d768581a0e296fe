"""Two complete, disjoint scopes ("a" and "b") for the role × endpoint matrix.

Each side has a district, subdistrict, pharmacy, two committees (the second for the
helper's home), a household with a registration and a voucher, an audit entry, and
one user (with an API token) per role. Strings in ``markers`` are private to the
side: a response to a user of the other side must never contain them.

The registrations are made with the real registration service (so the ledger has its
links; names not in the roster put them in the review queue): ``registration`` (online,
with an issued voucher of today), ``photo_registration`` (photo channel, with its
private photo file), ``bought_registration`` (its ``redeemed_voucher`` bought at the
pharmacy terminal, ready for a hand-over). ``free_household`` is not registered (for
desk, batch and API registrations), and ``notice`` is a published subdistrict notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from fairshare.accounts.models import ApiToken, CommitteeAssignment, User
from fairshare.core.audit import audit_record
from fairshare.pharmacy.services import voucher_redeem
from fairshare.registration.photos import registration_create_with_photo
from fairshare.registration.services import registration_create
from fairshare.transparency.services import notice_publish
from tests.factories import (
    CommitteeFactory,
    DistrictFactory,
    HouseholdFactory,
    MemberFactory,
    PharmacyFactory,
    RoundFactory,
    SubdistrictFactory,
    UserFactory,
    VoucherFactory,
)

PASSWORD = "pw-for-tests-1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
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
    photo_registration: Any = None
    bought_registration: Any = None
    redeemed_voucher: Any = None
    free_household: Any = None
    notice: Any = None
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
    building = s.household.building
    photo_household = HouseholdFactory(building=building)
    bought_household = HouseholdFactory(building=building)
    s.free_household = HouseholdFactory(building=building)
    MemberFactory(household=s.free_household, name=f"{key}-roster-member")
    s.round = RoundFactory(district=s.district)
    name = "甲秘密人" if key == "a" else "乙秘密人"
    phone = f"139{digit * 4}{digit * 4}"
    s.registration = registration_create(
        round=s.round, household=s.household, name=name, phone=phone, channel="online"
    ).registration
    s.voucher = VoucherFactory(registration=s.registration)
    photo_name, photo_phone = f"{name}照", f"137{digit * 4}{digit * 4}"
    s.photo_registration = registration_create_with_photo(
        round=s.round, household=photo_household, name=photo_name, phone=photo_phone, photo=PNG
    ).registration
    bought_name, bought_phone = f"{name}买", f"136{digit * 4}{digit * 4}"
    s.bought_registration = registration_create(
        round=s.round,
        household=bought_household,
        name=bought_name,
        phone=bought_phone,
        channel="online",
    ).registration
    s.redeemed_voucher = VoucherFactory(
        registration=s.bought_registration, declaration=s.voucher.declaration
    )
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
    voucher_redeem(
        code_or_token=s.redeemed_voucher.code, pharmacy=s.pharmacy, actor=s.users["pharmacy"]
    )
    s.notice = notice_publish(
        actor=s.users["subdistrict"],
        subdistrict=s.subdistrict,
        title=f"答复口径 {key}",
        body="口罩款式和价格因批次不同。",
    )
    note = f"AUDIT-SECRET-{key.upper()}"
    audit_record(
        actor=s.users["committee"],
        action="test.secret",
        obj=s.registration,
        committee_id=s.committee.pk,
        subdistrict_id=s.subdistrict.pk,
        note=note,
    )
    s.pii = [name, phone, photo_name, photo_phone, bought_name, bought_phone]
    s.markers = [
        *s.pii,
        s.registration.ticket,
        s.photo_registration.ticket,
        s.bought_registration.ticket,
        s.voucher.code,
        s.redeemed_voucher.code,
        note,
        helper.username,
    ]
    return s


@dataclass
class World:
    a: Side
    b: Side


def build_world() -> World:
    return World(a=build_side("a", "YPA", "1"), b=build_side("b", "HKB", "2"))
