"""Places: district → subdistrict → committee → building → household, and pharmacies."""

from __future__ import annotations

from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class District(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Subdistrict(models.Model):
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="subdistricts", verbose_name=_("district")
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        verbose_name = _("subdistrict")
        verbose_name_plural = _("subdistricts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Pharmacy(models.Model):
    """A designated pharmacy (指定药店); serves one or more committees of its subdistrict."""

    subdistrict = models.ForeignKey(
        Subdistrict,
        on_delete=models.PROTECT,
        related_name="pharmacies",
        verbose_name=_("subdistrict"),
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    address = models.CharField(_("address"), max_length=200)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    opens_at = models.TimeField(_("opens at"), default=time(8, 30))
    closes_at = models.TimeField(_("closes at"), default=time(20, 0))
    slot_minutes = models.PositiveSmallIntegerField(_("minutes per time slot"), default=30)
    customers_per_slot = models.PositiveSmallIntegerField(_("customers per time slot"), default=15)

    class Meta:
        verbose_name = _("designated pharmacy")
        verbose_name_plural = _("designated pharmacies")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="pharmacy_hours_ordered"
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=1, slot_minutes__lte=240),
                name="pharmacy_slot_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(customers_per_slot__gte=1), name="pharmacy_customers_per_slot_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Committee(models.Model):
    """A residents' committee (居委会), served by exactly one designated pharmacy (对口药店)."""

    subdistrict = models.ForeignKey(
        Subdistrict,
        on_delete=models.PROTECT,
        related_name="committees",
        verbose_name=_("subdistrict"),
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    address = models.CharField(_("desk address"), max_length=200, blank=True)
    phone = models.CharField(_("desk phone"), max_length=32, blank=True, db_default="")
    desk_hours = models.CharField(
        _("desk hours"),
        max_length=64,
        blank=True,
        db_default="",
        help_text=_("e.g. 周一至周五 8:30-17:00"),
    )
    pharmacy = models.ForeignKey(
        Pharmacy,
        on_delete=models.PROTECT,
        related_name="committees",
        verbose_name=_("serving pharmacy"),
    )

    class Meta:
        verbose_name = _("residents' committee")
        verbose_name_plural = _("residents' committees")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            self.pharmacy_id
            and self.subdistrict_id
            and self.pharmacy.subdistrict_id != self.subdistrict_id
        ):
            raise ValidationError(
                {"pharmacy": _("The serving pharmacy must be in the committee's subdistrict.")}
            )


class Building(models.Model):
    """A building (号/栋) of a compound (弄/小区) in a committee's area."""

    committee = models.ForeignKey(
        Committee, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("committee")
    )
    compound = models.CharField(
        _("compound / lane"), max_length=64, blank=True, help_text=_("e.g. 控江路1200弄")
    )
    label = models.CharField(_("building"), max_length=32, help_text=_("e.g. 12号"))
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    floors = models.PositiveSmallIntegerField(_("floors"), default=6)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["committee", "sort_order", "label"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "label"], name="building_label_unique")
        ]
        # The home page's address search looks buildings up by compound (and label).
        indexes = [models.Index(fields=["compound", "label"], name="building_compound_idx")]

    def __str__(self) -> str:
        return f"{self.compound}{self.label}"


class Household(models.Model):
    """A household (户) at one address; one registration per household per round."""

    committee = models.ForeignKey(
        Committee, on_delete=models.PROTECT, related_name="households", verbose_name=_("committee")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="households", verbose_name=_("building")
    )
    room = models.CharField(_("room"), max_length=16, help_text=_("e.g. 301室 is entered as 301"))
    external_id = models.CharField(
        _("household number"),
        max_length=32,
        blank=True,
        db_default="",
        help_text=_("The stable key (户号) of the subdistrict's roster, when it has one"),
    )
    active = models.BooleanField(
        _("active"),
        default=True,
        db_default=True,
        help_text=_("Cleared when a roster import no longer lists the household"),
    )

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["building", "room"]
        constraints = [
            models.UniqueConstraint(fields=["building", "room"], name="household_address_unique"),
            models.UniqueConstraint(
                fields=["committee", "external_id"],
                condition=~Q(external_id=""),
                name="household_external_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["committee", "building"], name="household_committee_idx")]

    def __str__(self) -> str:
        return f"{self.building} {self.room}室"

    def clean(self) -> None:
        if (
            self.building_id
            and self.committee_id
            and self.building.committee_id != self.committee_id
        ):
            raise ValidationError({"building": _("The building belongs to another committee.")})


class Member(models.Model):
    """A roster member (实有人口) of a household. ID numbers are never stored in clear."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="members", verbose_name=_("household")
    )
    name = models.CharField(_("name"), max_length=64)
    id_hash = models.CharField(
        _("ID number (keyed hash)"),
        max_length=64,
        blank=True,
        help_text=_("HMAC of the ID number, for duplicate checks only"),
    )
    phone = models.CharField(_("mobile phone"), max_length=16, blank=True, db_default="")
    lives_alone = models.BooleanField(_("lives alone"), default=False)
    mobility_impaired = models.BooleanField(_("mobility impaired"), default=False)
    elderly = models.BooleanField(_("aged 70 or over"), default=False)

    class Meta:
        verbose_name = _("roster member")
        verbose_name_plural = _("roster members")
        ordering = ["household", "id"]
        indexes = [models.Index(fields=["household", "name"], name="member_household_name_idx")]

    def __str__(self) -> str:
        return self.name
