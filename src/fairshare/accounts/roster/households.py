"""The households sheet: one row per roster member, grouped into households by their key
(``户号/household_id`` when given, else committee + building + room)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from django.utils.translation import gettext_lazy as _

from fairshare.accounts.pii import InvalidIdNumber
from fairshare.accounts.roster.context import Context, sub_key
from fairshare.accounts.roster.errors import ErrorList, Progress, no_progress
from fairshare.accounts.roster.plan import committee_code
from fairshare.accounts.roster.reader import Sheet
from fairshare.accounts.roster.text import (
    building_label,
    compact,
    fold,
    name_text,
    room_label,
    yes_no,
)
from fairshare.accounts.roster.wanted import HouseholdWant, Wanted
from fairshare.core.phones import has_control_chars, normalize_phone

LABEL_MAX, ROOM_MAX, NAME_MAX, EXTERNAL_MAX, COMPOUND_MAX = 32, 16, 64, 32, 64


@dataclass
class _Seen:
    """What the households rows said so far, to find disagreeing rows."""

    by_key: dict[tuple[str, ...], HouseholdWant] = field(default_factory=dict)
    by_address: dict[tuple[str, str, str], HouseholdWant] = field(default_factory=dict)
    external_committee: dict[str, tuple[str, int]] = field(default_factory=dict)
    compound_row: dict[tuple[str, str], int] = field(default_factory=dict)
    id_rows: dict[str, int] = field(default_factory=dict)
    committees: dict[tuple[str, str], tuple[str | None, str | None]] = field(default_factory=dict)


Checked = tuple[str, object]  # the cleaned value, and the problem (None when fine)
_MESSAGE_EMPTY = _("This cell must not be empty.")
_MESSAGE_CONTROL = _("Contains control characters.")
_MESSAGE_FLAG = _("Write 是 or 否 (yes or no).")


def _clean_cell(clean: Callable[[str], str], limit: int, required: bool, raw: str) -> Checked:
    value = clean(raw)
    if required and not value:
        return value, _MESSAGE_EMPTY
    if len(value) > limit:
        return value, _("Too long (at most %(n)d characters).") % {"n": limit}
    if has_control_chars(value):
        return value, _MESSAGE_CONTROL
    return value, None


class _Memo:
    """One column's cleaning and checks, done once per distinct cell text (a building's
    label, a room, an address, a yes/no repeat on thousands of rows)."""

    def __init__(self, clean: Callable[[str], str], limit: int, required: bool) -> None:
        self.clean, self.limit, self.required = clean, limit, required
        self.known: dict[str, Checked] = {}

    def __call__(self, raw: str) -> Checked:
        found = self.known.get(raw)
        if found is None:
            found = _clean_cell(self.clean, self.limit, self.required, raw)
            if len(self.known) < 200_000:
                self.known[raw] = found
        return found


_flag_value = lru_cache(maxsize=1024)(yes_no)


class _Row:
    """One households row being checked; errors name the row and the column's header."""

    __slots__ = ("cells", "errors", "row", "sheet")

    def __init__(self, sheet: Sheet, row: int, cells: dict[str, str], errors: ErrorList):
        self.sheet, self.row, self.cells, self.errors = sheet, row, cells, errors

    def error(self, key: str, message: object) -> None:
        self.errors.add(self.sheet.name, self.row, self.sheet.header(key) if key else "", message)  # type: ignore[arg-type]

    def value(self, key: str, memo: _Memo) -> str:
        value, problem = memo(self.cells.get(key, ""))
        if problem is not None:
            self.error(key, problem)
        return value

    def flag(self, key: str) -> bool:
        value = _flag_value(self.cells.get(key, ""))
        if value is None:
            self.error(key, _MESSAGE_FLAG)
        return bool(value)


def _member(r: _Row, hasher: Callable[[str], str], seen: _Seen) -> tuple[str, str, str, bool, bool]:
    name, problem = _clean_cell(name_text, NAME_MAX, True, r.cells.get("name", ""))
    if problem is not None:
        r.error("name", problem)
    id_hash = ""
    raw_id = compact(r.cells.get("id_number"))
    if raw_id:
        try:
            id_hash = hasher(raw_id)
        except InvalidIdNumber:
            r.error("id_number", _("Not a valid ID card or passport number."))
        else:
            if id_hash in seen.id_rows:
                r.error(
                    "id_number",
                    _("The same ID number is in row %(row)s.") % {"row": seen.id_rows[id_hash]},
                )
            seen.id_rows.setdefault(id_hash, r.row)
    phone = ""
    raw_phone = compact(r.cells.get("phone"))
    if raw_phone:
        phone = normalize_phone(raw_phone) or ""
        if not phone:
            r.error("phone", _("Not a valid mainland China mobile number (11 digits)."))
    return name, id_hash, phone, r.flag("lives_alone"), r.flag("mobility_impaired")


def _committee(r: _Row, ctx: Context, wanted: Wanted, seen: _Seen) -> str | None:
    raw = (r.cells.get("subdistrict", ""), r.cells.get("committee", ""))
    known = seen.committees.get(raw)
    if known is None:
        sub_text = fold(raw[0])
        cache_key = (sub_text, fold(raw[1]))
        sub, problem = ctx.subdistrict_for(sub_text)
        if sub is None:
            known = (None, "sub:" + (problem or ""))
        else:
            wanted.subdistricts.setdefault(sub_key(sub), sub)
            known = committee_code(ctx, wanted, cache_key[1], sub)
        seen.committees[raw] = known
    code, problem = known
    if problem:
        if problem.startswith("sub:"):
            r.error("subdistrict", problem[4:])
        else:
            r.error("committee", problem)
    return code


def _same(r: _Row, want: HouseholdWant, key: str, mine: str, theirs: str) -> None:
    if mine != theirs:
        r.error(
            key,
            _("The household's row %(row)s says %(value)s.") % {"row": want.row, "value": theirs},
        )


def _group(r: _Row, want: HouseholdWant, address: str, wanted: Wanted, seen: _Seen) -> None:
    """Add the row's member to its household, checking what the household's rows share."""
    external = want.external_id
    if external:
        first = seen.external_committee.setdefault(external, (want.committee, r.row))
        if first[0] != want.committee:
            r.error(
                "household_id",
                _("This household number is under committee %(c)s in row %(row)s.")
                % {"c": first[0], "row": first[1]},
            )
            return
    key = ("id", external) if external else ("at", want.committee, want.building, want.room)
    known = seen.by_key.get(key)
    if known is None:
        address_key = (want.committee, want.building, want.room)
        other = seen.by_address.setdefault(address_key, want)
        if other is not want:
            r.error(
                "room", _("Row %(row)s is another household at this address.") % {"row": other.row}
            )
            return
        seen.by_key[key] = known = want
        wanted.households.append(want)
    else:
        _same(r, known, "building", want.building, known.building)
        _same(r, known, "room", want.room, known.room)
    building_key = (want.committee, want.building)
    if building_key not in wanted.buildings or wanted.buildings[building_key] is None:
        wanted.buildings[building_key] = address or None
        seen.compound_row[building_key] = r.row
    elif address and wanted.buildings[building_key] != address:
        r.error(
            "address",
            _("Row %(row)s gives this building the address %(a)s.")
            % {"row": seen.compound_row[building_key], "a": wanted.buildings[building_key]},
        )
    if known is not want:
        known.members.extend(want.members)


def plan_households(
    sheets: list[Sheet],
    ctx: Context,
    wanted: Wanted,
    hasher: Callable[[str], str],
    errors: ErrorList,
    progress: Progress = no_progress,
) -> None:
    seen = _Seen()
    total, done = sum(len(s.rows) for s in sheets), 0
    progress("checking", 0, total)
    building = _Memo(building_label, LABEL_MAX, True)
    room = _Memo(room_label, ROOM_MAX, True)
    external = _Memo(compact, EXTERNAL_MAX, False)
    address = _Memo(fold, COMPOUND_MAX, False)
    for sheet in sheets:
        for row, cells in sheet.rows:
            done += 1
            if not done % 20_000:
                progress("checking", done, total)
            r = _Row(sheet, row, cells, errors)
            code = _committee(r, ctx, wanted, seen)
            label = r.value("building", building)
            room_no = r.value("room", room)
            key = r.value("household_id", external)
            where = r.value("address", address)
            member = _member(r, hasher, seen)
            if code and label and room_no:
                want = HouseholdWant(code, label, room_no, key, [member], row)
                _group(r, want, where, wanted, seen)
    progress("checking", total, total)
