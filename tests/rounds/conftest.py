"""Fixtures for the round life-cycle tests: two subdistricts of one district, a foreign
district, and their staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from fairshare.accounts.models import ApiToken
from tests.factories import (
    CommitteeFactory,
    DistrictFactory,
    PharmacyFactory,
    SubdistrictFactory,
    UserFactory,
)


def bearer_for(user) -> dict[str, str]:
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def round_body(days: int = 30, **extra: Any) -> dict[str, Any]:
    """A round whose registration opens in ``days`` days (clear of other rounds)."""
    start = timezone.now() + timedelta(days=days)
    body = {
        "name": f"第{days}轮",
        "registration_opens_at": start.isoformat(),
        "registration_closes_at": (start + timedelta(days=3)).isoformat(),
        "valid_from": timezone.localtime(start + timedelta(days=1)).date().isoformat(),
        "valid_until": timezone.localtime(start + timedelta(days=5)).date().isoformat(),
        "policy": "fcfs",
        "offline_reserve_pct": 10,
        "phone_verification": True,
    }
    body.update(extra)
    return body


@dataclass
class Place:
    district: Any
    sub: Any
    other_sub: Any
    committee: Any
    other_committee: Any
    pharmacy: Any
    district_user: Any
    sub_user: Any
    committee_user: Any
    foreign_sub_user: Any


@pytest.fixture
def place(db) -> Place:
    district = DistrictFactory()
    sub, other_sub = SubdistrictFactory(district=district), SubdistrictFactory(district=district)
    pharmacy = PharmacyFactory(subdistrict=sub)
    committee = CommitteeFactory(subdistrict=sub, pharmacy=pharmacy)
    other_committee = CommitteeFactory(
        subdistrict=other_sub, pharmacy=PharmacyFactory(subdistrict=other_sub)
    )
    foreign = SubdistrictFactory(district=DistrictFactory(code="HK", name="虹口区"))
    return Place(
        district=district,
        sub=sub,
        other_sub=other_sub,
        committee=committee,
        other_committee=other_committee,
        pharmacy=pharmacy,
        district_user=UserFactory(role="district", district=district),
        sub_user=UserFactory(role="subdistrict", subdistrict=sub),
        committee_user=UserFactory(role="committee", committee=committee),
        foreign_sub_user=UserFactory(role="subdistrict", subdistrict=foreign),
    )
