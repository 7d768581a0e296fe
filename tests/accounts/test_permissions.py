"""The role and area predicates of fairshare.accounts.permissions, for every role, a
superuser, an expired user and anonymous callers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from fairshare.accounts.permissions import (
    area_district_id,
    covers_district,
    covers_subdistrict,
    has_role,
    is_area_staff,
    is_pharmacy_staff,
    may_allocate,
    may_declare_supply,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles_world):
    """tests/accounts/conftest.py: p1 serves s1, p3 serves s2."""
    return roles_world


# who → (is_area_staff, covers s1, covers s2, covers district YP, district of the area)
AREA = {
    "district": (True, True, True, True, "yp"),
    "subdistrict": (True, True, False, False, "yp"),
    "committee": (False, False, False, False, None),
    "pharmacy": (False, False, False, False, None),
    "none": (False, False, False, False, None),
    "super": (True, True, True, True, None),
    "expired": (False, False, False, False, None),
}


@pytest.mark.parametrize("who", sorted(AREA))
def test_area_predicates(world, who):
    user = world[who]
    area_staff, s1, s2, yp, district = AREA[who]
    assert is_area_staff(user) is area_staff
    assert covers_subdistrict(user, world["s1"]) is s1
    assert covers_subdistrict(user, world["s2"]) is s2
    assert covers_district(user, world["yp"].pk) is yp
    assert covers_district(user, world["hk"].pk) is (who == "super")
    assert area_district_id(user) == (world[district].pk if district else None)


# who → (declare p1, declare p3 (in s2), allocate YP round, allocate HK round)
ACTIONS = {
    "district": (True, True, True, False),
    "subdistrict": (True, False, True, False),
    "committee": (False, False, False, False),
    "pharmacy": (True, False, False, False),
    "none": (False, False, False, False),
    "super": (True, True, True, True),
    "expired": (False, False, False, False),
}


@pytest.mark.parametrize("who", sorted(ACTIONS))
def test_supply_and_allocation_predicates(world, who):
    user = world[who]
    p1, p2, yp, hk = ACTIONS[who]
    assert may_declare_supply(user, world["p1"]) is p1
    assert may_declare_supply(user, world["p3"]) is p2
    assert may_allocate(user, world["round_yp"]) is yp
    assert may_allocate(user, world["round_hk"]) is hk


@pytest.mark.parametrize("user", [None, AnonymousUser()])
def test_nobody_passes_any_check(world, user):
    assert not has_role(user, "district", "subdistrict", "committee", "pharmacy")
    assert not is_pharmacy_staff(user) and not is_area_staff(user)
    assert not covers_subdistrict(user, world["s1"]) and not may_allocate(user, world["round_yp"])
    assert area_district_id(user) is None


def test_pharmacy_staff_has_no_superuser_bypass(world):
    assert is_pharmacy_staff(world["pharmacy"])
    assert not is_pharmacy_staff(world["super"]) and not is_pharmacy_staff(world["expired"])
    assert has_role(world["super"], "pharmacy") and not has_role(world["committee"], "pharmacy")
