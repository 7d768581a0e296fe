"""Resolving what callers type (committee code, building, room) to a Household."""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.roster.text import compact
from fairshare.community.models import Building, Committee, Household, Member, Subdistrict
from fairshare.core.errors import FieldErrors
from fairshare.core.fastsql import Join, select_joined


def _building_variants(text: str) -> list[str]:
    text = compact(text)  # full-width "１２号" is "12号", as the roster import stores it
    bare = text.removesuffix("号").removesuffix("栋").removesuffix("幢")
    return list(dict.fromkeys([text, f"{bare}号", f"{bare}栋", f"{bare}幢", bare]))


def _room_variants(text: str) -> list[str]:
    text = compact(text)
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


@cache
def _roster_columns(vendor: str) -> tuple[str, str]:
    qn = connection.ops.quote_name
    m_t = qn(Member._meta.db_table)
    agg = (
        f"string_agg({m_t}.{qn('name')}, chr(31))"
        if vendor == "postgresql"
        else f"group_concat({m_t}.{qn('name')}, char(31))"
    )
    where = f"FROM {m_t} WHERE {m_t}.{qn('household_id')} = {{Household}}.{qn('id')}"
    return f"(SELECT count(*) {where})", f"(SELECT {agg} {where})"


def _joins(b_count: int, r_count: int) -> tuple[Join, ...]:
    """Committee → subdistrict, → its buildings labelled like a variant, → their rooms."""
    return (
        Join(Subdistrict, field="subdistrict"),
        Join(
            Building,
            on="{Building}.committee_id = {Committee}.id "
            f"AND {{Building}}.label IN ({', '.join(['%s'] * b_count)})",
            outer=True,
        ),
        Join(
            Household,
            on="{Household}.building_id = {Building}.id "
            f"AND {{Household}}.room IN ({', '.join(['%s'] * r_count)})",
            outer=True,
        ),
    )


def household_resolve(*, committee_code: str, building: str, room: str) -> Household:
    """The household at (committee, building, room) in one statement; per-field 422 errors.

    "12", "12号" and "12 号" all find building 12号: the committee's building whose label
    is the earliest variant is chosen (whether or not the room exists there), then the
    earliest room variant in that building. The roster names come with the household.
    """
    b_variants = _building_variants((building or "")[:40])
    r_variants = _room_variants((room or "")[:24])
    rows = select_joined(
        Committee,
        _joins(len(b_variants), len(r_variants)),
        "{Committee}.code = %s",
        [*b_variants, *r_variants, (committee_code or "").strip()[:16]],
        extra=_roster_columns(connection.vendor),
    )
    errors = FieldErrors()
    if not rows:
        errors.add("committee", _("Unknown residents' committee."))
        raise errors
    b_rank = {v: i for i, v in enumerate(b_variants)}
    labelled = [r for r in rows if r.models[2] is not None]
    if not labelled:
        errors.add("building", _("No such building in this committee's area."))
        raise errors
    best = min(labelled, key=lambda r: b_rank[r.models[2].label]).models[2].label
    r_rank = {v: i for i, v in enumerate(r_variants)}
    found = [r for r in labelled if r.models[2].label == best and r.models[3] is not None]
    if not found:
        errors.add("room", _("No such room in this building."))
        raise errors
    row = min(found, key=lambda r: r_rank[r.models[3].room])
    committee, _subdistrict, building_obj, household = row.models
    count, joined = row.extra
    names = joined.split(_SEP) if joined else []
    if len(names) == count:  # else a name holds the separator: registration reads the roster
        setattr(household, ROSTER_ATTR, names)
    building_obj.committee = committee
    household.building = building_obj
    if household.committee_id == committee.pk:  # else (inconsistent data) loaded on use
        household.committee = committee
    return household


def name_key(text: str) -> str:
    """A name compared as people mean it: without spaces, case-folded."""
    return "".join(text.split()).casefold()


def roster_match(household: Household, name: str) -> bool:
    """Whether ``name`` is on the household's roster (fetched with it by
    ``household_resolve``, else read here; hot path: no ORM compilation)."""
    wanted = name_key(name)
    names = getattr(household, ROSTER_ATTR, None)
    if names is None:
        table = connection.ops.quote_name(Member._meta.db_table)
        with connection.cursor() as cursor:
            sql = f"SELECT name FROM {table} WHERE household_id = %s"  # noqa: S608 - model table
            cursor.execute(sql, [household.pk])
            names = [row[0] for row in cursor.fetchall()]
    return any(name_key(n) == wanted for n in names)
