"""Fixtures for registration tests: a committee with a small roster and an open round."""

from __future__ import annotations

import pytest

from fairshare.accounts.models import ApiToken
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    RoundFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _no_ratelimit(settings):
    # Rate limits have their own tests (tests/core/test_ratelimit.py and test_api.py).
    settings.RATELIMIT_ENABLED = False


@pytest.fixture
def place(db):
    committee = CommitteeFactory(code="KJ01", name="图们居委会")
    building = BuildingFactory(committee=committee, label="12号")
    household = HouseholdFactory(building=building, room="301")
    MemberFactory(household=household, name="张三明")
    round_obj = RoundFactory(district=committee.subdistrict.district)
    return {
        "committee": committee,
        "building": building,
        "household": household,
        "round": round_obj,
    }


@pytest.fixture
def staff(place):
    return UserFactory(username="kj01", role="committee", committee=place["committee"])


@pytest.fixture
def staff_token(staff):
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=staff, token_hash=ApiToken.hash(raw))
    return raw
