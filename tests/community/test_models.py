import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from fairshare.community.models import Committee
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    PharmacyFactory,
    SubdistrictFactory,
)

pytestmark = pytest.mark.django_db


def test_household_address_is_unique_per_building():
    household = HouseholdFactory(room="301")
    with pytest.raises(IntegrityError), transaction.atomic():
        HouseholdFactory(building=household.building, room="301")
    # The same room number in another building is a different household.
    other = HouseholdFactory(building=BuildingFactory(committee=household.committee), room="301")
    assert other.pk != household.pk


def test_building_label_unique_per_committee():
    building = BuildingFactory(label="12号")
    with pytest.raises(IntegrityError), transaction.atomic():
        BuildingFactory(committee=building.committee, label="12号")


def test_committee_needs_a_serving_pharmacy():
    subdistrict = SubdistrictFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Committee.objects.create(subdistrict=subdistrict, code="X1", name="x", pharmacy_id=None)


def test_pharmacy_serving_committees_cannot_be_deleted():
    committee = CommitteeFactory()
    with pytest.raises(ProtectedError):
        committee.pharmacy.delete()


def test_one_pharmacy_serves_several_committees_of_its_subdistrict():
    pharmacy = PharmacyFactory()
    committees = [
        CommitteeFactory(subdistrict=pharmacy.subdistrict, pharmacy=pharmacy) for _ in range(5)
    ]
    assert set(pharmacy.committees.all()) == set(committees)
    for committee in committees:
        committee.full_clean()


def test_pharmacy_of_another_subdistrict_is_rejected():
    committee = CommitteeFactory()
    committee.pharmacy = PharmacyFactory()  # a new subdistrict
    with pytest.raises(ValidationError) as excinfo:
        committee.full_clean()
    assert "pharmacy" in excinfo.value.message_dict


def test_household_building_must_belong_to_its_committee():
    household = HouseholdFactory()
    household.committee = CommitteeFactory()
    with pytest.raises(ValidationError):
        household.full_clean()


def test_pharmacy_opening_hours_must_be_ordered():
    pharmacy = PharmacyFactory()
    pharmacy.closes_at = pharmacy.opens_at
    with pytest.raises(IntegrityError), transaction.atomic():
        pharmacy.save()
