"""Resolving what callers type (committee code, building, room) to a Household."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fairshare.community.models import Building, Committee, Household
from fairshare.core.errors import FieldErrors


def _building_variants(text: str) -> list[str]:
    text = "".join((text or "").split())
    bare = text.removesuffix("号").removesuffix("栋").removesuffix("幢")
    return list(dict.fromkeys([text, f"{bare}号", f"{bare}栋", f"{bare}幢", bare]))


def _room_variants(text: str) -> list[str]:
    text = "".join((text or "").split())
    bare = text.removesuffix("室")
    return list(dict.fromkeys([text, bare]))


def building_find(*, committee: Committee, text: str) -> Building | None:
    """A building of the committee by label; "12", "12号" and "12 号" all find 12号."""
    variants = _building_variants(text)
    found = {b.label: b for b in Building.objects.filter(committee=committee, label__in=variants)}
    return next((found[v] for v in variants if v in found), None)


def household_find(*, building: Building, room: str) -> Household | None:
    variants = _room_variants(room)
    found = {
        h.room: h
        for h in Household.objects.select_related("committee__subdistrict", "building").filter(
            building=building, room__in=variants
        )
    }
    return next((found[v] for v in variants if v in found), None)


def household_resolve(*, committee_code: str, building: str, room: str) -> Household:
    """The household at (committee, building, room); per-field 422 errors otherwise."""
    errors = FieldErrors()
    committee = (
        Committee.objects.select_related("subdistrict")
        .filter(code=(committee_code or "").strip()[:16])
        .first()
    )
    if committee is None:
        errors.add("committee", _("Unknown residents' committee."))
        raise errors
    found_building = building_find(committee=committee, text=(building or "")[:40])
    if found_building is None:
        errors.add("building", _("No such building in this committee's area."))
        raise errors
    household = household_find(building=found_building, room=(room or "")[:24])
    if household is None:
        errors.add("room", _("No such room in this building."))
        raise errors
    return household
