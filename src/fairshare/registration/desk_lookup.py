"""What the desk's one field finds: a scanned mailbox form code, an address as people
say it (``registration/address.py``), a phone number or a roster name.

``desk_lookup`` answers one household (opened at once), several (a list to pick from
with the arrow keys and Enter) or an error in the staff member's language. Only the
committee's own households are ever found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from fairshare.accounts.roster.text import name_text
from fairshare.community.models import Committee, Household
from fairshare.core.phones import normalize_desk_phone, normalize_phone
from fairshare.registration.address import address_parse
from fairshare.registration.lookup import building_find, household_find
from fairshare.registration.mailbox import looks_like_mailbox_code, mailbox_code_read
from fairshare.registration.models import Registration
from fairshare.rounds.models import Round

MATCH_LIMIT = 20


@dataclass
class DeskLookup:
    household: Household | None = None
    matches: list[Household] = field(default_factory=list)
    error: str = ""
    from_form: bool = False  # opened by a mailbox form's code
    error_status: int = 404  # 422 for a form code that is refused


def _by_code(committee: Committee, round_obj: Round, text: str) -> DeskLookup:
    code = mailbox_code_read(text)
    if code is None:
        return DeskLookup(
            error=_("This form's code is not genuine: register by address."), error_status=422
        )
    if code.round_id != round_obj.pk:
        return DeskLookup(error=_("This form belongs to another round."), error_status=422)
    household = household_open(committee=committee, household_id=code.household_id)
    if household is None:
        return DeskLookup(error=_("This form belongs to another committee."), error_status=422)
    return DeskLookup(household=household, from_form=True)


def household_open(*, committee: Committee, household_id: int | None) -> Household | None:
    if household_id is None:
        return None
    return (
        Household.objects.select_related("building", "committee__subdistrict")
        .filter(pk=household_id, committee=committee)
        .first()
    )


def _by_address(committee: Committee, text: str) -> Household | None:
    address = address_parse(text)
    if address is None:
        return None
    for label in dict.fromkeys([address.building, address.bare_building]):
        building = building_find(committee=committee, text=label)
        if building is not None:
            return household_find(building=building, room=address.room)
    return None


def _by_phone_or_name(committee: Committee, text: str) -> list[Household]:
    phone = normalize_phone(text) or normalize_desk_phone(text)
    if phone is not None:
        registered = Registration.objects.filter(committee=committee, phone=phone)
        wanted = Q(members__phone=phone) | Q(pk__in=registered.values("household_id"))
    else:
        name = name_text(text)
        if not name:
            return []
        wanted = Q(members__name__icontains=name)
    found = (
        Household.objects.select_related("building")
        .filter(wanted, committee=committee)
        .distinct()
        .order_by("building__sort_order", "building__label", "room")
    )
    return list(found[:MATCH_LIMIT])


def desk_lookup(*, committee: Committee, round_obj: Round, text: str) -> DeskLookup:
    text = (text or "").strip()[:120]
    if looks_like_mailbox_code(text):
        return _by_code(committee, round_obj, text)
    if address_parse(text) is not None:
        household = _by_address(committee, text)
        if household is None:
            return DeskLookup(error=_("No household at this address in your committee."))
        return DeskLookup(household=household)
    matches = _by_phone_or_name(committee, text)
    if not matches:
        return DeskLookup(error=_("No household at this address, name or phone in your committee."))
    if len(matches) == 1:
        return DeskLookup(household=matches[0])
    return DeskLookup(matches=matches)


def desk_household(*, round_obj: Round, household: Household) -> dict[str, Any]:
    """The opened household on the desk page: its roster (the first member is the
    default name), its live registration in this round, and its last known phone."""
    previous = (
        Registration.objects.filter(household=household)
        .exclude(phone="")
        .order_by("-acknowledged_at")
        .first()
    )
    members = list(household.members.order_by("id"))
    existing = (
        Registration.objects.filter(round=round_obj, household=household)
        .exclude(status=Registration.Status.VOID)
        .first()
    )
    return {
        "household": household,
        "members": members,
        "existing": existing,
        "default_name": members[0].name if members else "",
        "default_phone": previous.phone if previous else "",
    }
