"""factory_boy factories for the domain model (shared by every app's tests)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from fairshare.accounts.models import User
from fairshare.community.models import (
    Building,
    Committee,
    District,
    Household,
    Member,
    Pharmacy,
    Subdistrict,
)
from fairshare.rounds.models import Round


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    code = "YP"
    name = "杨浦区"


class SubdistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subdistrict

    district = factory.SubFactory(DistrictFactory)
    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.Sequence(lambda n: f"街道{n}")


class PharmacyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pharmacy

    subdistrict = factory.SubFactory(SubdistrictFactory)
    code = factory.Sequence(lambda n: f"P{n:03d}")
    name = factory.Sequence(lambda n: f"第{n}药房")
    address = factory.Sequence(lambda n: f"控江路{n}号")


class CommitteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Committee

    subdistrict = factory.SubFactory(SubdistrictFactory)
    pharmacy = factory.SubFactory(
        PharmacyFactory, subdistrict=factory.SelfAttribute("..subdistrict")
    )
    code = factory.Sequence(lambda n: f"C{n:03d}")
    name = factory.Sequence(lambda n: f"第{n}居委会")


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    committee = factory.SubFactory(CommitteeFactory)
    compound = "控江路1200弄"
    label = factory.Sequence(lambda n: f"{n + 1}号")
    sort_order = factory.Sequence(lambda n: n)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    building = factory.SubFactory(BuildingFactory)
    committee = factory.SelfAttribute("building.committee")
    room = factory.Sequence(lambda n: f"{(n // 4) % 6 + 1}{n % 4 + 1:02d}{'' if n < 24 else n}")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Faker("name", locale="zh_CN")


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Round

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"第{n + 1}轮")
    registration_opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    registration_closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=9))
    valid_from = factory.LazyFunction(timezone.localdate)
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=10))
    status = Round.Status.OPEN


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
