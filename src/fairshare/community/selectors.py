"""Reads of places. Public reads expose addresses only, never roster names."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from fairshare.community.models import Committee, Household
from fairshare.core.errors import NotFound


def committee_list() -> QuerySet[Committee]:
    return Committee.objects.select_related("pharmacy", "subdistrict").order_by("code")


def committee_get(*, code: str) -> Committee:
    committee = committee_list().filter(code=code).first()
    if committee is None:
        raise NotFound(_("Unknown committee."), code="unknown_committee")
    return committee


def household_addresses(*, committee: Committee) -> QuerySet[Household]:
    return (
        Household.objects.filter(committee=committee)
        .select_related("building")
        .order_by("building__sort_order", "building__label", "room")
    )
