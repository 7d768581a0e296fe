"""Resolving what callers type (committee code, building, room) to a Household."""

from __future__ import annotations

from django.db import connection
from django.utils.translation import gettext_lazy as _

from fairshare.community.models import Building, Committee, Household, Member, Subdistrict
from fairshare.core.errors import FieldErrors
from fairshare.core.fastsql import model_columns, model_width, row_to_model


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


# The household's roster names, read in the same statement (registration_create's match).
ROSTER_ATTR = "_roster_names"
_SEP = "\x1f"  # unit separator (chr(31)); a name holding it is detected by the count


def _roster_column(h_t: str) -> str:
    qn = connection.ops.quote_name
    m_t = qn(Member._meta.db_table)
    agg = (
        f"string_agg({m_t}.{qn('name')}, chr(31))"
        if connection.vendor == "postgresql"
        else f"group_concat({m_t}.{qn('name')}, char(31))"
    )
    where = f"FROM {m_t} WHERE {m_t}.{qn('household_id')} = {h_t}.{qn('id')}"
    return f"(SELECT count(*) {where}), (SELECT {agg} {where})"


def _household_resolve_one_query(*, code: str, building: str, room: str) -> Household | None:
    """``household_resolve``'s answer in one statement when it is a household, else None.

    The same choice as the three-step lookup: the committee's building whose label is the
    earliest variant (whether or not the room exists there), then the earliest room variant
    in that building; None sends the caller to the step-by-step path for its exact error.
    """
    b_variants = _building_variants(building)
    r_variants = _room_variants(room)
    qn = connection.ops.quote_name
    b_t, c_t, h_t, s_t = (
        qn(m._meta.db_table) for m in (Building, Committee, Household, Subdistrict)
    )
    sql = (
        f"SELECT {model_columns(Building)}, "  # noqa: S608
        f"{model_columns(Committee)}, "
        f"{model_columns(Subdistrict)}, {model_columns(Household)}, {_roster_column(h_t)} "
        f"FROM {b_t} INNER JOIN {c_t} ON {b_t}.{qn('committee_id')} = {c_t}.{qn('id')} "
        f"INNER JOIN {s_t} ON {c_t}.{qn('subdistrict_id')} = {s_t}.{qn('id')} "
        f"LEFT JOIN {h_t} ON {h_t}.{qn('building_id')} = {b_t}.{qn('id')} "
        f"AND {h_t}.{qn('room')} IN ({', '.join(['%s'] * len(r_variants))}) "
        f"WHERE {c_t}.{qn('code')} = %s "
        f"AND {b_t}.{qn('label')} IN ({', '.join(['%s'] * len(b_variants))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*r_variants, code, *b_variants])
        rows = cursor.fetchall()
    if not rows:
        return None
    wb, wc, ws = model_width(Building), model_width(Committee), model_width(Subdistrict)
    b_rank = {v: i for i, v in enumerate(b_variants)}
    r_rank = {v: i for i, v in enumerate(r_variants)}
    best_label = min((row[:wb][_label_index()] for row in rows), key=b_rank.__getitem__)
    chosen = [
        row
        for row in rows
        if row[:wb][_label_index()] == best_label and row[wb + wc + ws] is not None
    ]
    if not chosen:
        return None
    row = min(chosen, key=lambda r: r_rank[r[wb + wc + ws :][_room_index()]])
    building_obj = row_to_model(Building, row[:wb])
    committee = row_to_model(Committee, row[wb : wb + wc])
    committee.subdistrict = row_to_model(Subdistrict, row[wb + wc : wb + wc + ws])
    household = row_to_model(Household, row[wb + wc + ws : -2])
    count, joined = row[-2], row[-1]
    names = joined.split(_SEP) if joined else []
    if len(names) == count:  # else a name holds the separator: registration reads the roster
        setattr(household, ROSTER_ATTR, names)
    if household.committee_id != committee.pk:
        return None  # inconsistent data: let the step-by-step path decide
    building_obj.committee = committee
    household.committee = committee
    household.building = building_obj
    return household


def _label_index() -> int:
    return [f.attname for f in Building._meta.concrete_fields].index("label")


def _room_index() -> int:
    return [f.attname for f in Household._meta.concrete_fields].index("room")


def household_resolve(*, committee_code: str, building: str, room: str) -> Household:
    """The household at (committee, building, room); per-field 422 errors otherwise."""
    found = _household_resolve_one_query(
        code=(committee_code or "").strip()[:16],
        building=(building or "")[:40],
        room=(room or "")[:24],
    )
    if found is not None:
        return found
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
