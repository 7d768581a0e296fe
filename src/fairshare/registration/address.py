"""What desk staff type for an address, normalised once: ``12号301``, ``12-301``,
``12 301``, ``12栋301室``, ``61弄12号301室`` and full-width ``１２－３０１`` all name
the same household. Building labels and rooms are normalised by the roster import's own
rules (``accounts.roster.text``: ``building_label``, ``room_label``), so what the desk
looks up is what the import stored."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fairshare.accounts.roster.text import building_label, fold, room_label

_UNIT = r"\d+[A-Z]?"
_ADDRESS = re.compile(
    rf"^(?:(?P<lane>{_UNIT})\s*弄\s*)?(?P<no>{_UNIT})\s*"
    rf"(?:(?:号楼|号|栋|幢|楼)[\s\-/#、,，.]*|[\s\-/#、,，.]+)"
    rf"(?P<room>{_UNIT})\s*室?$"
)


@dataclass(frozen=True)
class DeskAddress:
    building: str  # the roster label: "12号", "61弄12号"
    room: str  # "301"
    bare_building: str  # without the lane ("12号"), for rosters that do not record it


def address_parse(text: str | None) -> DeskAddress | None:
    """The building label and room of what staff typed, or None when it is no address."""
    match = _ADDRESS.match(fold(text).upper())
    if match is None:
        return None
    lane = f"{match['lane']}弄" if match["lane"] else ""
    return DeskAddress(
        building=building_label(f"{lane}{match['no']}号"),
        room=room_label(match["room"]),
        bare_building=building_label(match["no"]),
    )


def address_split(text: str | None) -> tuple[str, str]:
    """(building, room) for the lookups that take them apart (``lookup.building_find``,
    ``registration_submit``); what is no address is all building, no room."""
    address = address_parse(text)
    if address is None:
        return fold(text), ""
    return address.building, address.room
