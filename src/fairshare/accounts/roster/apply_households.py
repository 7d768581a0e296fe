"""Households and their members: matched with the database (by household number, else by
address), then created, updated, left unchanged or marked inactive, in batches."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.roster.apply_places import BATCH, Ids, Tally
from fairshare.accounts.roster.context import Context, sub_key
from fairshare.accounts.roster.errors import ErrorList, Progress, no_progress
from fairshare.accounts.roster.wanted import HouseholdWant, MemberTuple, Wanted
from fairshare.community.models import Household, Member

Address = tuple[str, str, str]  # committee code, building label, room


@dataclass
class _Old:
    pk: int
    address: Address
    external_id: str
    active: bool
    members: list[MemberTuple] = field(default_factory=list)


@dataclass
class HouseholdDiff:
    new: list[HouseholdWant] = field(default_factory=list)
    changed: list[tuple[_Old, HouseholdWant, bool]] = field(default_factory=list)  # members?
    gone: list[_Old] = field(default_factory=list)
    unchanged: int = 0
    moved: list[_Old] = field(default_factory=list)


def _load(ctx: Context, wanted: Wanted) -> list[_Old]:
    codes = [c for c in wanted.committees if c in ctx.committees]
    subs = {ctx.committees[c].subdistrict_id for c in codes}
    olds: dict[int, _Old] = {}
    rows = Household.objects.filter(committee__subdistrict_id__in=subs).values_list(
        "pk", "committee__code", "building__label", "room", "external_id", "active"
    )
    for pk, code, label, room, external, active in rows.iterator(chunk_size=BATCH):
        olds[pk] = _Old(pk, (code, label, room), external, active)
    members = (
        Member.objects.filter(household__committee__subdistrict_id__in=subs)
        .order_by("household_id", "pk")
        .values_list("household_id", "name", "id_hash", "phone", "lives_alone", "mobility_impaired")
    )
    for household_id, *member in members.iterator(chunk_size=BATCH):
        olds[household_id].members.append(tuple(member))  # type: ignore[arg-type]
    return list(olds.values())


def _sub(wanted: Wanted, code: str) -> str:
    ref = wanted.committees[code].subdistrict
    return sub_key(ref) if ref is not None else ""


def _match(
    ctx: Context, wanted: Wanted, olds: list[_Old], sheet: str, errors: ErrorList
) -> tuple[dict[int, _Old], set[int]]:
    """Which old household each wanted one is (by index in wanted.households)."""
    by_ext = {
        (f"#{ctx.committees[o.address[0]].subdistrict_id}", o.external_id): o
        for o in olds
        if o.external_id
    }
    by_addr = {o.address: o for o in olds}
    matched: dict[int, _Old] = {}
    claimed: set[int] = set()
    for i, want in enumerate(wanted.households):
        old = by_ext.get((_sub(wanted, want.committee), want.external_id))
        if want.external_id and old is not None:
            matched[i] = old
            claimed.add(old.pk)
    for i, want in enumerate(wanted.households):
        if i in matched:
            continue
        old = by_addr.get((want.committee, want.building, want.room))
        if old is None or old.pk in claimed:
            continue
        if want.external_id and old.external_id and old.external_id != want.external_id:
            errors.add(
                sheet,
                want.row,
                "",
                _(
                    "This address belongs to household %(h)s in the database, which the file does "
                    "not list: give that household number or a different room."
                )
                % {"h": old.external_id},
            )
            continue
        matched[i] = old
        claimed.add(old.pk)
    return matched, claimed


def diff_households(ctx: Context, wanted: Wanted, sheet: str, errors: ErrorList) -> HouseholdDiff:
    olds = _load(ctx, wanted)
    matched, claimed = _match(ctx, wanted, olds, sheet, errors)
    by_addr = {o.address: o for o in olds}
    diff = HouseholdDiff()
    for i, want in enumerate(wanted.households):
        address = (want.committee, want.building, want.room)
        holder = by_addr.get(address)
        old = matched.get(i)
        if holder is not None and holder is not old and holder.pk not in claimed:
            errors.add(
                sheet,
                want.row,
                "",
                _("This address belongs to another household in the database (%(h)s).")
                % {"h": holder.external_id or "-"},
            )
            continue
        if old is None:
            diff.new.append(want)
            continue
        if old.address != address:
            diff.moved.append(old)
        same = (
            old.address == address
            and old.active
            and (not want.external_id or old.external_id == want.external_id)
        )
        members_same = old.members == want.members
        if same and members_same:
            diff.unchanged += 1
        else:
            diff.changed.append((old, want, not members_same))
    codes = {w.committee for w in wanted.households}
    diff.gone = [o for o in olds if o.pk not in claimed and o.active and o.address[0] in codes]
    return diff


MemberRow = tuple[int, str, str, str, bool, bool, bool]
_MEMBER_COLUMNS = (
    "household_id",
    "name",
    "id_hash",
    "phone",
    "lives_alone",
    "mobility_impaired",
    "elderly",
)


def _member_rows(household_id: int, members: list[MemberTuple]) -> list[MemberRow]:
    return [(household_id, n, h, p, a, m, False) for n, h, p, a, m in members]


def _insert_members(rows: list[MemberRow], progress: Progress, before: int) -> None:
    """One executemany per batch: the ORM's per-object work was most of the import's time."""
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in _MEMBER_COLUMNS)
    marks = ", ".join(["%s"] * len(_MEMBER_COLUMNS))
    # Table and column names come from model metadata; values are parameters.
    sql = f"INSERT INTO {qn(Member._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH * 10):
            cursor.executemany(sql, rows[start : start + BATCH * 10])
            progress("households", before + start, before + len(rows))


def write_households(
    diff: HouseholdDiff, ids: Ids, *, write: bool, progress: Progress = no_progress
) -> Tally:
    tally = Tally(
        created=len(diff.new),
        updated=len(diff.changed),
        unchanged=diff.unchanged,
        deactivated=len(diff.gone),
    )
    if not write:
        return tally
    # Free the addresses of moving households first (a swap would break the unique address).
    parked = [Household(pk=o.pk, room=f"~{o.pk}") for o in diff.moved]
    Household.objects.bulk_update(parked, ["room"], batch_size=BATCH)
    updates, replace = [], []
    for old, want, members_changed in diff.changed:
        updates.append(
            Household(
                pk=old.pk,
                committee_id=ids.committees[want.committee],
                building_id=ids.buildings[(want.committee, want.building)],
                room=want.room,
                external_id=want.external_id or old.external_id,
                active=True,
            )
        )
        if members_changed:
            replace.append((old.pk, want.members))
    fields = ["committee_id", "building_id", "room", "external_id", "active"]
    Household.objects.bulk_update(updates, fields, batch_size=BATCH)
    gone = [o.pk for o in diff.gone]
    for start in range(0, len(gone), BATCH):
        Household.objects.filter(pk__in=gone[start : start + BATCH]).update(active=False)
    stale = [pk for pk, _members in replace]
    for start in range(0, len(stale), BATCH):
        Member.objects.filter(household_id__in=stale[start : start + BATCH]).delete()
    members: list[MemberRow] = []
    for pk, wanted_members in replace:
        members.extend(_member_rows(pk, wanted_members))
    _create_new(diff.new, ids, members, progress)
    return tally


def _next_pk_sqlite() -> int:
    """The first free id of the households table (AUTOINCREMENT: never one used before)."""
    table = Household._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
    return max(top, row[0] if row else 0) + 1


def _insert_households_sqlite(new: list[HouseholdWant], ids: Ids, members: list[MemberRow]) -> None:
    """Explicit ids (the import holds SQLite's one write lock): one executemany, no ORM
    objects and no id read-back."""
    first = _next_pk_sqlite()
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in _HOUSEHOLD_COLUMNS)
    marks = ", ".join(["%s"] * len(_HOUSEHOLD_COLUMNS))
    sql = f"INSERT INTO {qn(Household._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    committees, buildings = ids.committees, ids.buildings
    rows = []
    for n, w in enumerate(new):
        pk = first + n
        rows.append(
            (
                pk,
                committees[w.committee],
                buildings[(w.committee, w.building)],
                w.room,
                w.external_id,
                True,
            )
        )
        members.extend(_member_rows(pk, w.members))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH * 5):
            cursor.executemany(sql, rows[start : start + BATCH * 5])


_HOUSEHOLD_COLUMNS = ("id", "committee_id", "building_id", "room", "external_id", "active")


def _create_new(
    new: list[HouseholdWant], ids: Ids, members: list[MemberRow], progress: Progress
) -> None:
    progress("households", 0, len(new) + len(members))
    if connection.vendor == "sqlite":
        _insert_households_sqlite(new, ids, members)
    else:
        for start in range(0, len(new), BATCH):
            chunk = new[start : start + BATCH]
            rows = [
                Household(
                    committee_id=ids.committees[w.committee],
                    building_id=ids.buildings[(w.committee, w.building)],
                    room=w.room,
                    external_id=w.external_id,
                )
                for w in chunk
            ]
            created = Household.objects.bulk_create(rows)
            for household, want in zip(created, chunk, strict=True):
                members.extend(_member_rows(household.pk, want.members))
    progress("households", len(new), len(new) + len(members))
    _insert_members(members, progress, len(new))


def member_counts(wanted: Wanted) -> int:
    return sum(len(w.members) for w in wanted.households)


def committees_of(wanted: Wanted) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for want in wanted.households:
        counts[want.committee] += 1
    return dict(counts)
