"""The demo's places and households as roster sheets, built in memory and written by the
roster import engine (``roster_import_sheets``): the demo takes the same path, with the
same checks, as a subdistrict's own roster.

What the roster format does not carry (pharmacy phones, a member's elderly flag, the
floors of the few low houses) is set afterwards with small updates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fairshare.accounts.roster.columns import COLUMNS, COMMITTEES, HOUSEHOLDS, PHARMACIES
from fairshare.accounts.roster.reader import Row, Sheet
from fairshare.accounts.roster.services import roster_import_sheets
from fairshare.community.models import Building, Member, Pharmacy

UPDATE_BATCH = 5_000


@dataclass(frozen=True)
class DemoMember:
    committee: str  # code
    building: str  # label, "3号"
    room: str
    name: str
    alone: bool
    impaired: bool
    elderly: bool


def _sheet(kind: str, name: str, rows: list[Row]) -> Sheet:
    """A sheet as the reader gives it: the headers (as a workbook would write them, in
    Chinese) of the columns the rows fill, then the rows numbered from 2."""
    keys = set(rows[0][1]) if rows else set()
    headers = {c.key: c.headers[0] for c in COLUMNS[kind] if c.key in keys}
    return Sheet(kind, name, headers=headers, rows=rows)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def households_sheet(
    subdistricts: dict[str, str], members: list[DemoMember], compounds: dict[str, str]
) -> Sheet:
    """One row per member; ``subdistricts`` maps committee code → subdistrict code."""
    rows: list[Row] = []
    for number, m in enumerate(members, start=2):
        cells = {
            "subdistrict": subdistricts[m.committee],
            "committee": m.committee,
            "building": m.building,
            "room": m.room,
            "name": m.name,
            "lives_alone": _yes(m.alone),
            "mobility_impaired": _yes(m.impaired),
            "address": compounds[m.committee],
        }
        rows.append((number, cells))
    return _sheet(HOUSEHOLDS, "住户", rows)


def committees_sheet(committees: list[tuple[str, str, str]]) -> Sheet:
    """(code, name, address) rows."""
    rows: list[Row] = [
        (number, {"code": code, "name": name, "address": address})
        for number, (code, name, address) in enumerate(committees, start=2)
    ]
    return _sheet(COMMITTEES, "居委会", rows)


def pharmacies_sheet(pharmacies: list[tuple[str, str, str, str, int, list[str]]]) -> Sheet:
    """(code, name, address, hours "8:30-20:00", people per slot, served codes) rows."""
    rows: list[Row] = [
        (
            number,
            {
                "code": code,
                "name": name,
                "address": address,
                "opening_hours": hours,
                "slot_capacity": str(capacity),
                "committees": ";".join(served),
            },
        )
        for number, (code, name, address, hours, capacity, served) in enumerate(pharmacies, start=2)
    ]
    return _sheet(PHARMACIES, "药店", rows)


def import_demo_sheets(sheets: list[Sheet]) -> dict[str, dict[str, int]]:
    """Write the sheets as the command line's import does (no actor); the counts."""
    return roster_import_sheets(sheets=sheets, actor=None).counts


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), UPDATE_BATCH):
        yield ids[start : start + UPDATE_BATCH]


def apply_demo_extras(
    *, members: list[DemoMember], phones: dict[str, str], floors: dict[tuple[str, str], int]
) -> None:
    """The demo's fields outside the roster format. Members are matched by household
    address and their order within it (the import writes a household's rows in order)."""
    for code, phone in phones.items():
        Pharmacy.objects.filter(code=code).update(phone=phone)
    for (committee, label), n in floors.items():
        Building.objects.filter(committee__code=committee, label=label).update(floors=n)
    wanted: dict[tuple[str, str, str], list[bool]] = {}
    for m in members:
        wanted.setdefault((m.committee, m.building, m.room), []).append(m.elderly)
    seen: dict[tuple[str, str, str], int] = {}
    elderly: list[int] = []
    rows = Member.objects.order_by("id").values_list(
        "id", "household__committee__code", "household__building__label", "household__room"
    )
    for pk, committee, label, room in rows.iterator(chunk_size=UPDATE_BATCH):
        key = (committee, label, room)
        index = seen[key] = seen.get(key, -1) + 1
        flags = wanted.get(key, [])
        if index < len(flags) and flags[index]:
            elderly.append(pk)
    for batch in _batches(elderly):
        Member.objects.filter(id__in=batch).update(elderly=True)
