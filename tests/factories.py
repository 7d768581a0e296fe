"""factory_boy factories for the domain model (shared by every app's tests)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.db import models
from django.utils import timezone

from fairshare.accounts.models import User
from fairshare.allocation.models import SupplyDay, SupplyDeclaration, Voucher
from fairshare.allocation.tokens import code_new
from fairshare.community.models import (
    Building,
    Committee,
    District,
    Household,
    Member,
    Pharmacy,
    Subdistrict,
)
from fairshare.registration.models import Registration
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


# --- Registrations, supply and vouchers -------------------------------------------
# These build rows directly (no service), for tests of code downstream of
# registration. Tests of the registration service itself must use the service.


def _next_queue_number(obj) -> int:
    last = (
        Registration.objects.filter(round=obj.round, committee=obj.committee)
        .order_by("-queue_number")
        .values_list("queue_number", flat=True)
        .first()
    )
    return (last or 0) + 1


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    household = factory.SubFactory(HouseholdFactory)
    committee = factory.SelfAttribute("household.committee")
    round = factory.SubFactory(
        RoundFactory, district=factory.SelfAttribute("..committee.subdistrict.district")
    )
    queue_number = factory.LazyAttribute(_next_queue_number)
    ticket = factory.Sequence(lambda n: f"T{n:08d}")
    channel = "online"
    status = Registration.Status.VERIFIED
    name = factory.Faker("name", locale="zh_CN")
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class SupplyDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplyDay

    pharmacy = factory.SubFactory(PharmacyFactory)
    date = factory.LazyFunction(timezone.localdate)
    packs = 0


class SupplyDeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplyDeclaration
        skip_postgeneration_save = True

    supply_day = factory.SubFactory(SupplyDayFactory)
    packs = 100
    manufacturer = "上海某医疗用品有限公司"
    style = "一次性医用口罩"
    unit_price = Decimal("12.50")

    @factory.post_generation
    def _sync_day(obj, create, extracted, **kwargs):
        if create:
            obj.supply_day.packs = obj.supply_day.declarations.filter(
                superseded_by__isnull=True
            ).aggregate(total=models.Sum("packs"))["total"]
            obj.supply_day.save(update_fields=["packs"])


class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voucher

    registration = factory.SubFactory(RegistrationFactory)
    round = factory.SelfAttribute("registration.round")
    household = factory.SelfAttribute("registration.household")
    committee = factory.SelfAttribute("registration.committee")
    pharmacy = factory.SelfAttribute("committee.pharmacy")
    declaration = factory.SubFactory(
        SupplyDeclarationFactory, supply_day__pharmacy=factory.SelfAttribute("...pharmacy")
    )
    supply_day = factory.SelfAttribute("declaration.supply_day")
    date = factory.SelfAttribute("supply_day.date")
    valid_until = factory.SelfAttribute("date")
    code = factory.LazyFunction(code_new)
