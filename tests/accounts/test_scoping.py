"""scope_q / scoped / pharmacy_scope_q / has_access for every role, helpers included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from fairshare.accounts.models import CommitteeAssignment
from fairshare.accounts.permissions import has_access
from fairshare.accounts.scoping import pharmacy_scope_q, scope_q, scoped
from fairshare.community.models import Committee, Household, Pharmacy
from fairshare.registration.models import Registration
from tests.factories import (
    CommitteeFactory,
    DistrictFactory,
    HouseholdFactory,
    PharmacyFactory,
    RegistrationFactory,
    SubdistrictFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def area():
    """District YP: subdistrict S1 (committees c1, c2 served by p1; c3 by p2), S2 (c4 by p3);
    district HK: subdistrict S3 (c5 by p4)."""
    yp, hk = DistrictFactory(code="YP"), DistrictFactory(code="HK")
    s1, s2 = SubdistrictFactory(district=yp), SubdistrictFactory(district=yp)
    s3 = SubdistrictFactory(district=hk)
    p1, p2 = PharmacyFactory(subdistrict=s1), PharmacyFactory(subdistrict=s1)
    p3, p4 = PharmacyFactory(subdistrict=s2), PharmacyFactory(subdistrict=s3)
    c = {
        "c1": CommitteeFactory(subdistrict=s1, pharmacy=p1),
        "c2": CommitteeFactory(subdistrict=s1, pharmacy=p1),
        "c3": CommitteeFactory(subdistrict=s1, pharmacy=p2),
        "c4": CommitteeFactory(subdistrict=s2, pharmacy=p3),
        "c5": CommitteeFactory(subdistrict=s3, pharmacy=p4),
    }
    for committee in c.values():
        RegistrationFactory(household=HouseholdFactory(building__committee=committee))
    return {"yp": yp, "hk": hk, "s1": s1, "s2": s2, "s3": s3, "p1": p1, "p2": p2, "p4": p4, **c}


def codes(qs) -> set[str]:
    return {c.code for c in qs}


def names(area, *keys) -> set[str]:
    return {area[k].code for k in keys}


def test_each_role_sees_its_committees(area):
    cases = [
        (UserFactory(role="district", district=area["yp"]), ("c1", "c2", "c3", "c4")),
        (UserFactory(role="subdistrict", subdistrict=area["s1"]), ("c1", "c2", "c3")),
        (UserFactory(role="committee", committee=area["c2"]), ("c2",)),
        (UserFactory(role="pharmacy", pharmacy=area["p1"]), ()),  # no pharmacy_path given
        (UserFactory(role=""), ()),
        (UserFactory(is_superuser=True), ("c1", "c2", "c3", "c4", "c5")),
    ]
    for user, expected in cases:
        assert codes(Committee.objects.filter(scope_q(user, ""))) == names(area, *expected), user
        regs = scoped(Registration.objects.all(), user)
        assert {r.committee.code for r in regs} == names(area, *expected), user
        households = scoped(Household.objects.all(), user)
        assert {h.committee.code for h in households} == names(area, *expected), user


def test_pharmacy_staff_see_rows_of_their_pharmacy_only(area):
    user = UserFactory(role="pharmacy", pharmacy=area["p1"])
    committees = Committee.objects.filter(scope_q(user, "", pharmacy_path="pharmacy"))
    assert codes(committees) == names(area, "c1", "c2")
    regs = scoped(Registration.objects.all(), user, pharmacy_path="committee__pharmacy")
    assert {r.committee.code for r in regs} == names(area, "c1", "c2")
    assert set(Pharmacy.objects.filter(pharmacy_scope_q(user))) == {area["p1"]}


def test_pharmacy_scope_for_area_and_committee_staff(area):
    district = UserFactory(role="district", district=area["yp"])
    assert area["p4"] not in Pharmacy.objects.filter(pharmacy_scope_q(district))
    sub = UserFactory(role="subdistrict", subdistrict=area["s1"])
    assert set(Pharmacy.objects.filter(pharmacy_scope_q(sub))) == {area["p1"], area["p2"]}
    staff = UserFactory(role="committee", committee=area["c3"])
    assert set(Pharmacy.objects.filter(pharmacy_scope_q(staff)).distinct()) == {area["p2"]}


def test_helper_sees_assigned_committees_until_the_assignment_expires(area):
    now = timezone.now()
    helper = UserFactory(
        role="committee", committee=area["c1"], access_expires_at=now + timedelta(days=5)
    )
    assignment = CommitteeAssignment.objects.create(
        user=helper, committee=area["c4"], expires_at=now + timedelta(days=2)
    )
    assert codes(Committee.objects.filter(scope_q(helper, ""))) == names(area, "c1", "c4")
    regs = scoped(Registration.objects.all(), helper)
    assert {r.committee.code for r in regs} == names(area, "c1", "c4")
    assert set(Pharmacy.objects.filter(pharmacy_scope_q(helper)).distinct()) == {
        area["p1"],
        Committee.objects.get(pk=area["c4"].pk).pharmacy,
    }
    assignment.expires_at = now - timedelta(seconds=1)
    assignment.save()
    assert codes(Committee.objects.filter(scope_q(helper, ""))) == names(area, "c1")


def test_expired_inactive_and_anonymous_users_see_nothing(area):
    past = timezone.now() - timedelta(minutes=1)
    expired = UserFactory(role="subdistrict", subdistrict=area["s1"], access_expires_at=past)
    CommitteeAssignment.objects.create(
        user=expired, committee=area["c4"], expires_at=timezone.now() + timedelta(days=1)
    )
    inactive = UserFactory(role="district", district=area["yp"], is_active=False)
    expired_super = UserFactory(is_superuser=True, access_expires_at=past)
    for user in (expired, inactive, expired_super, AnonymousUser(), None):
        assert not has_access(user)
        assert not Committee.objects.filter(scope_q(user, "")).exists()
        assert not Pharmacy.objects.filter(pharmacy_scope_q(user)).exists()
        assert not scoped(Registration.objects.all(), user, pharmacy_path="pharmacy").exists()
    future = UserFactory(
        role="committee",
        committee=area["c1"],
        access_expires_at=timezone.now() + timedelta(hours=1),
    )
    assert has_access(future)
