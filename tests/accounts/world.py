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

Allocation (issue 4), through the real services: the pharmacy declares supply for
``supply_date`` (tomorrow; ``supply``) with ``supply_declare``, and subdistrict staff run
``allocation_run`` for it, issuing ``allocated_voucher`` (to ``queued_registration``)
among others. ``waiting_registration`` registers after that run and waits; the
pharmacy has also declared ``next_supply_date`` (the day after), so an allocation run
for that day has something to issue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from fairshare.accounts.models import ApiToken, CommitteeAssignment, User
from fairshare.allocation.models import Voucher
from fairshare.allocation.services import allocation_run, supply_declare
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
    supply_date: Any = None
    next_supply_date: Any = None
    supply: Any = None
    queued_registration: Any = None
    allocated_voucher: Any = None
    waiting_registration: Any = None
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
    allocated_pii, allocated = _allocate(s, name, digit)
    note = f"AUDIT-SECRET-{key.upper()}"
    audit_record(
        actor=s.users["committee"],
        action="test.secret",
        obj=s.registration,
        committee_id=s.committee.pk,
        subdistrict_id=s.subdistrict.pk,
        note=note,
    )
    s.pii = [name, phone, photo_name, photo_phone, bought_name, bought_phone, *allocated_pii]
    s.markers = [
        *s.pii,
        s.registration.ticket,
        s.photo_registration.ticket,
        s.bought_registration.ticket,
        s.voucher.code,
        s.redeemed_voucher.code,
        note,
        helper.username,
        *allocated,
    ]
    return s


def _allocate(s: Side, name: str, digit: str) -> tuple[list[str], list[str]]:
    """Supply, an allocation run and a waiting household (see the module docstring).

    Returns the new private strings: (names and phones, tickets and voucher codes)."""
    building = s.household.building
    s.supply_date = timezone.localdate() + timedelta(days=1)
    s.next_supply_date = s.supply_date + timedelta(days=1)
    batch = {"manufacturer": "某医疗用品厂", "style": "一次性医用口罩", "unit_price": "12.50"}
    s.supply = supply_declare(
        pharmacy=s.pharmacy,
        date=s.supply_date,
        packs=10,
        actor=s.users["pharmacy"],
        round=s.round,
        **batch,
    )
    # Roster names: a made-up name waits for review and gets no voucher (docs/fairness.md).
    queued_name, queued_phone = f"{name}排", f"135{digit * 4}{digit * 4}"
    queued_home = HouseholdFactory(building=building)
    MemberFactory(household=queued_home, name=queued_name)
    s.queued_registration = registration_create(
        round=s.round,
        household=queued_home,
        name=queued_name,
        phone=queued_phone,
        channel="online",
    ).registration
    result = allocation_run(
        round=s.round, date=s.supply_date, pharmacy=s.pharmacy, actor=s.users["subdistrict"]
    )
    issued = Voucher.objects.filter(round=s.round, supply_day=s.supply.supply_day)
    s.allocated_voucher = issued.get(registration=s.queued_registration)
    assert result.issued == issued.count() >= 1
    waiting_name, waiting_phone = f"{name}等", f"134{digit * 4}{digit * 4}"
    waiting_home = HouseholdFactory(building=building)
    MemberFactory(household=waiting_home, name=waiting_name)
    s.waiting_registration = registration_create(
        round=s.round,
        household=waiting_home,
        name=waiting_name,
        phone=waiting_phone,
        channel="online",
    ).registration
    supply_declare(
        pharmacy=s.pharmacy,
        date=s.next_supply_date,
        packs=10,
        actor=s.users["pharmacy"],
        round=s.round,
        **batch,
    )
    pii = [queued_name, queued_phone, waiting_name, waiting_phone]
    return pii, [
        s.queued_registration.ticket,
        s.waiting_registration.ticket,
        *issued.values_list("code", flat=True),
    ]


@dataclass
class World:
    a: Side
    b: Side


def build_world() -> World:
    return World(a=build_side("a", "YPA", "1"), b=build_side("b", "HKB", "2"))
