"""Every row validated into the wanted state (``Wanted``); nothing is written here."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fairshare.accounts.roster.columns import COMMITTEES, HOUSEHOLDS, PHARMACIES
from fairshare.accounts.roster.context import Context, sub_key
from fairshare.accounts.roster.errors import ErrorList
from fairshare.accounts.roster.reader import Sheet
from fairshare.accounts.roster.text import code_list, compact, fold, opening_hours
from fairshare.accounts.roster.wanted import CommitteeWant, PharmacyWant, SubdistrictRef, Wanted
from fairshare.community.models import Subdistrict
from fairshare.core.phones import normalize_desk_phone

CODE_MAX, NAME_MAX, ADDRESS_MAX, HOURS_MAX = 16, 64, 200, 64


def _text(
    sheet: Sheet, row: int, cells: dict[str, str], key: str, limit: int, errors: ErrorList
) -> str:
    value = fold(cells.get(key))
    if len(value) > limit:
        errors.add(
            sheet.name,
            row,
            sheet.header(key),
            _("Too long (at most %(n)d characters).") % {"n": limit},
        )
    return value


def _required(
    sheet: Sheet, row: int, cells: dict[str, str], key: str, limit: int, errors: ErrorList
) -> str:
    value = _text(sheet, row, cells, key, limit, errors)
    if not value:
        errors.add(sheet.name, row, sheet.header(key), _("This cell must not be empty."))
    return value


def _committee_row(
    sheet: Sheet, row: int, cells: dict[str, str], wanted: Wanted, errors: ErrorList
) -> None:
    code = compact(_required(sheet, row, cells, "code", CODE_MAX, errors))
    name = _required(sheet, row, cells, "name", NAME_MAX, errors)
    if code in wanted.committees:
        errors.add(
            sheet.name,
            row,
            sheet.header("code"),
            _("This committee is already listed in row %(row)s.")
            % {"row": wanted.committees[code].row},
        )
        return
    phone = None
    if "phone" in sheet.headers:
        raw = fold(cells.get("phone"))
        phone = normalize_desk_phone(raw) if raw else ""
        if phone is None:
            errors.add(sheet.name, row, sheet.header("phone"), _("Not a valid phone number."))
    want = CommitteeWant(code=code, name=name, phone=phone, row=row)
    if "desk_hours" in sheet.headers:
        want.desk_hours = _text(sheet, row, cells, "desk_hours", HOURS_MAX, errors)
    if "address" in sheet.headers:
        want.address = _text(sheet, row, cells, "address", ADDRESS_MAX, errors)
    if code:
        wanted.committees[code] = want


def _pharmacy_row(
    sheet: Sheet, row: int, cells: dict[str, str], wanted: Wanted, errors: ErrorList
) -> None:
    code = compact(_required(sheet, row, cells, "code", CODE_MAX, errors))
    name = _required(sheet, row, cells, "name", NAME_MAX, errors)
    address = _required(sheet, row, cells, "address", ADDRESS_MAX, errors)
    hours = None
    if fold(cells.get("opening_hours")):
        hours = opening_hours(cells.get("opening_hours"))
        if hours is None:
            errors.add(
                sheet.name,
                row,
                sheet.header("opening_hours"),
                _("Write the opening hours as 08:30-20:00."),
            )
    capacity = None
    raw = compact(cells.get("slot_capacity"))
    if raw:
        capacity = int(raw) if raw.isdigit() and 0 < int(raw) <= 10000 else None
        if capacity is None:
            errors.add(
                sheet.name,
                row,
                sheet.header("slot_capacity"),
                _("A whole number of people, at least 1."),
            )
    served = code_list(cells.get("committees"))
    if code in wanted.pharmacies:
        errors.add(
            sheet.name,
            row,
            sheet.header("code"),
            _("This pharmacy is already listed in row %(row)s.")
            % {"row": wanted.pharmacies[code].row},
        )
    elif code:
        wanted.pharmacies[code] = PharmacyWant(code, name, address, hours, capacity, served, row)


def plan_places(sheets: list[Sheet], wanted: Wanted, errors: ErrorList) -> None:
    """The committees and pharmacies sheets (before the households, which refer to them)."""
    for sheet in sheets:
        if sheet.kind == COMMITTEES:
            for row, cells in sheet.rows:
                _committee_row(sheet, row, cells, wanted, errors)
    for sheet in sheets:
        if sheet.kind == PHARMACIES:
            for row, cells in sheet.rows:
                _pharmacy_row(sheet, row, cells, wanted, errors)


def committee_code(
    ctx: Context, wanted: Wanted, text: str, sub: SubdistrictRef
) -> tuple[str | None, str | None]:
    """The code of the committee a households row names (code or name) in ``sub``; a
    committee the file and the database do not know is created with that code."""
    code, name = compact(text), fold(text)
    if code not in wanted.committees and code not in ctx.committees:
        key = (sub_key(sub), name)
        code = ctx.committee_names.get(key) or next(
            (c for c, w in wanted.committees.items() if w.name == name), code
        )
    existing = ctx.committees.get(code)
    if existing is not None and sub_key(existing.subdistrict) != sub_key(sub):
        return None, str(
            _("This committee belongs to subdistrict %(s)s.") % {"s": existing.subdistrict.name}
        )
    want = wanted.committees.get(code)
    if want is None:
        if existing is None and len(code) > CODE_MAX:
            return None, str(_("A new committee's code is at most 16 characters."))
        want = wanted.committees[code] = CommitteeWant(code=code, name=None if existing else name)
    if want.subdistrict is not None and sub_key(want.subdistrict) != sub_key(sub):
        return None, str(_("This committee is named under two subdistricts."))
    want.subdistrict = sub
    return code, None


def _sole_subdistrict(ctx: Context, wanted: Wanted) -> SubdistrictRef | None:
    if ctx.subdistrict is not None:
        return ctx.subdistrict
    refs = {sub_key(r): r for r in wanted.subdistricts.values()}
    return next(iter(refs.values())) if len(refs) == 1 else None


def _settle_committees(
    ctx: Context, wanted: Wanted, sheet_of: dict[str, str], errors: ErrorList
) -> None:
    for code, want in wanted.committees.items():
        existing = ctx.committees.get(code)
        if want.subdistrict is None:
            want.subdistrict = existing.subdistrict if existing else _sole_subdistrict(ctx, wanted)
        if want.subdistrict is None:
            errors.add(
                sheet_of[COMMITTEES],
                want.row,
                "",
                _("Committee %(c)s: no households row says its subdistrict.") % {"c": code},
            )
        elif isinstance(want.subdistrict, Subdistrict) and not ctx.allowed(want.subdistrict):
            errors.add(
                sheet_of[COMMITTEES],
                want.row,
                "",
                _("Committee %(c)s is outside the area of this import.") % {"c": code},
            )
        if existing is None and not want.name:
            want.name = code


def settle_service(
    ctx: Context, wanted: Wanted, sheet_of: dict[str, str], errors: ErrorList
) -> None:
    """Pharmacies get the subdistrict of the committees they serve; every committee must end
    up served by one pharmacy of its own subdistrict."""
    _settle_committees(ctx, wanted, sheet_of, errors)
    sheet = sheet_of.get(PHARMACIES, "")
    for pharmacy in wanted.pharmacies.values():
        subs = {}
        for code in pharmacy.committees:
            want = wanted.committees.get(code)
            existing = ctx.committees.get(code)
            ref = want.subdistrict if want else existing.subdistrict if existing else None
            if want is None and existing is None:
                errors.add(sheet, pharmacy.row, "", _("Unknown committee %(c)s.") % {"c": code})
                continue
            if want is not None and want.pharmacy and want.pharmacy != pharmacy.code:
                errors.add(
                    sheet,
                    pharmacy.row,
                    "",
                    _("Committee %(c)s is also served by pharmacy %(p)s.")
                    % {"c": code, "p": want.pharmacy},
                )
            want = want or wanted.committees.setdefault(code, CommitteeWant(code, ref))
            want.pharmacy = pharmacy.code
            if ref is not None:
                subs[sub_key(ref)] = ref
        existing_ph = ctx.pharmacies.get(pharmacy.code)
        if existing_ph is not None:
            subs.setdefault(sub_key(existing_ph.subdistrict), existing_ph.subdistrict)
        if len(subs) > 1:
            errors.add(
                sheet, pharmacy.row, "", _("A pharmacy serves committees of one subdistrict only.")
            )
        pharmacy.subdistrict = next(iter(subs.values()), None) or _sole_subdistrict(ctx, wanted)
        if pharmacy.subdistrict is None:
            errors.add(
                sheet,
                pharmacy.row,
                "",
                _("The pharmacy's subdistrict is unknown: list the committees it serves."),
            )
        elif isinstance(pharmacy.subdistrict, Subdistrict) and not ctx.allowed(
            pharmacy.subdistrict
        ):
            errors.add(
                sheet, pharmacy.row, "", _("This pharmacy is outside the area of this import.")
            )
    for code, want in wanted.committees.items():
        existing = ctx.committees.get(code)
        if want.pharmacy is None and existing is None:
            where = sheet_of.get(COMMITTEES if want.row else HOUSEHOLDS, "")
            errors.add(
                where,
                want.row,
                "",
                _("Committee %(c)s is served by no pharmacy: list it in the pharmacies sheet.")
                % {"c": code},
            )
