"""The allocation choice and its writes as set-based SQL (SQLite and PostgreSQL).

This module computes the fair order inside the database, so a run of 100,000 vouchers
moves no row through Python (``tests/allocation/reference.py`` keeps the same order
stated row by row in Python, and a property test compares the two). Who takes part
is the waiting rule of ``waiting.py``:

* ``committee_counts``: per committee, the waiting registrations, how many of them
  are requeued, and how many offline ones are not (one GROUP BY); the engine turns
  them into a quota (largest remainder) and the numbers taken from each class
  (``CommitteePlan``);
* ``_ranked``: window functions rank each committee's waiting registrations —
  requeued ones by (requeue time, id), the rest by the policy key (queue number, or
  the lottery position computed in Python from ``lottery.draw_key`` over the
  registrations' public link hashes, ``waiting_draws``, and passed in);
  from the ranks follow the class (0 requeued, 1 offline reserve, 2 general queue)
  and the rank in the class, so "the first k of a class" is a comparison;
* ``per_building``: the even split over buildings needs the pool size per building
  (``building_pool_counts``, then ``planning.even_split`` in Python) and a rank per
  building;
* pickup slots by arithmetic on the pickup rank (``SlotSegment``: runs of equal free
  places), voucher codes sliced out of one packed parameter
  (``core.codes.codes_generate_packed``), delivery when a member lives alone or is
  mobility impaired;
* ``insert_vouchers``: one INSERT … SELECT in issue order; ``insert_sms``: one
  INSERT … SELECT of the SMS outbox rows from the new vouchers.

Identifiers and integers computed here (committee ids, plans, slot segments) are
written into the SQL as literals (``int()``); every other value is a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any

from django.db import connection, models

from fairshare.allocation.models import Requeue, Voucher
from fairshare.allocation.waiting import waiting_sql
from fairshare.community.models import Building, Household, Member
from fairshare.core.fastsql import column_of
from fairshare.core.models import OutboxMessage
from fairshare.core.phones import stored_mobile_sql
from fairshare.registration.models import OFFLINE_CHANNELS, LedgerEntry, Registration

CODE_WIDTH = 11  # tokens.CODE_LENGTH + the check symbol

_REG = Registration._meta.db_table
_VOUCHER = Voucher._meta.db_table
_REQUEUE = Requeue._meta.db_table
_MEMBER = Member._meta.db_table
_HOUSEHOLD = Household._meta.db_table
_BUILDING = Building._meta.db_table
_OUTBOX = OutboxMessage._meta.db_table
_LEDGER = LedgerEntry._meta.db_table
_OFFLINE_SQL = ", ".join(f"'{c}'" for c in sorted(str(c) for c in OFFLINE_CHANNELS))
# The household's latest ``requeued`` row as ``q`` (a household requeued after a
# shortfall and later after an expiry has two; one row per waiting registration).
_REQUEUE_JOIN = (
    f"LEFT JOIN {_REQUEUE} q ON q.round_id = r.round_id "
    "AND q.household_id = r.household_id AND q.outcome = 'requeued' "
    f"AND NOT EXISTS (SELECT 1 FROM {_REQUEUE} q2 WHERE q2.round_id = q.round_id "
    "AND q2.household_id = q.household_id AND q2.outcome = 'requeued' AND q2.id > q.id) "
)


@dataclass(frozen=True)
class CommitteePlan:
    """What one committee gets: ``taken`` requeued, ``reserve`` offline, ``left`` from the pool."""

    committee_id: int
    base: int  # vouchers of the committees before this one in the run (code order)
    taken: int
    reserve: int
    left: int

    @property
    def quota(self) -> int:
        return self.taken + self.reserve + self.left


def committee_plan(
    *, committee_id: int, base: int, quota: int, requeued: int, offline: int, reserve_pct: int
) -> CommitteePlan:
    """The class sizes taken for a quota: requeued first, then the offline reserve
    (``reserve_pct`` of the quota, at most the offline ones), the rest from the pool."""
    taken = min(requeued, max(quota, 0))
    left = quota - taken
    reserve = min(quota * reserve_pct // 100, left, offline) if quota > 0 else 0
    return CommitteePlan(committee_id, base, taken, max(reserve, 0), max(left - reserve, 0))


@dataclass(frozen=True)
class SlotSegment:
    """Consecutive pickup slots with the same free places: pickup ranks ``first``..``last``."""

    first: int  # pickup rank of the segment's first place (1-based)
    last: int
    start: int  # seconds after midnight of the segment's first slot
    per_slot: int


def slot_segments(plan: Sequence[Sequence[Any]], step: int) -> list[SlotSegment]:
    """Compress ``engine._slot_plan`` ([start, end, free], in order) into segments."""
    segments: list[SlotSegment] = []
    done = 0
    previous: SlotSegment | None = None
    for start, _end, free in plan:
        at = seconds(start)
        if (
            previous is not None
            and previous.per_slot == free
            and previous.start + ((previous.last - previous.first + 1) // free) * step == at
        ):
            previous = SlotSegment(previous.first, previous.last + free, previous.start, free)
            segments[-1] = previous
        else:
            previous = SlotSegment(done + 1, done + free, at, free)
            segments.append(previous)
        done += free
    return segments


def seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def time_of(value: int | None) -> time | None:
    return None if value is None else time(value // 3600, value // 60 % 60, value % 60)


def committee_counts(
    *, round_id: int, committee_ids: Sequence[int]
) -> dict[int, tuple[int, int, int]]:
    """Per committee: (waiting, waiting and requeued, waiting offline and not requeued)."""
    where, params = waiting_sql(round_id=round_id, committee_ids=committee_ids)
    sql = (
        "SELECT r.committee_id, COUNT(*), COUNT(q.id), "
        f"SUM(CASE WHEN q.id IS NULL AND r.channel IN ({_OFFLINE_SQL}) THEN 1 ELSE 0 END) "
        f"FROM {_REG} r {_REQUEUE_JOIN}"
        f"WHERE {where} GROUP BY r.committee_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: (row[1], row[2], row[3] or 0) for row in cursor.fetchall()}


def waiting_draws(
    *, round_id: int, committee_ids: Sequence[int]
) -> list[tuple[int, int, str, bool]]:
    """(registration id, queue number, hash of its "registered" link, carried over) of
    the waiting registrations: the public inputs of the lottery order (``lottery``)."""
    where, params = waiting_sql(round_id=round_id, committee_ids=committee_ids)
    if connection.vendor == "postgresql":
        carried = "(e.payload::jsonb ->> 'carried_from')"
    else:
        carried = "json_extract(e.payload, '$.carried_from')"
    sql = (
        f"SELECT r.id, r.queue_number, e.hash, CASE WHEN {carried} IS NULL THEN 0 ELSE 1 END "
        f"FROM {_REG} r JOIN {_LEDGER} e ON e.registration_id = r.id "
        f"AND e.kind = '{LedgerEntry.Kind.REGISTERED}' WHERE {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(rid, qn, link, bool(flag)) for rid, qn, link, flag in cursor.fetchall()]


@dataclass
class Query:
    """``WITH <ctes> <select>``; the parameters all belong to the CTEs."""

    ctes: str
    params: list[Any]
    select: str = ""

    @property
    def sql(self) -> str:
        return f"WITH {self.ctes} {self.select}"


def _ranked(
    *,
    round_id: int,
    plans: Sequence[CommitteePlan],
    lottery: Sequence[int] | None,
    buildings: bool,
) -> Query:
    """CTEs ``w`` → ``rk`` → ``cl``: each waiting registration with its class and class rank.

    One window (committee, policy key) gives every non-requeued registration its rank
    ``g`` among them and the number of offline ones up to it (``offs``). The offline
    reserve is the offline ones with ``offs <= reserve``; the rank in the general
    queue is ``g`` minus the reserved ones before it: ``reserve`` for an offline one
    past the reserve, ``min(reserve, offs)`` for an online one. Requeued ones are
    ranked by (requeue time, id) in a second window, only when there are any.
    """
    pg = connection.vendor == "postgresql"
    where, where_params = waiting_sql(
        round_id=round_id, committee_ids=[p.committee_id for p in plans]
    )
    join, params = _lottery_join(lottery, pg)
    key = "r.queue_number" if lottery is None else "lot.pos"
    building = "CAST(NULL AS BIGINT)"
    if buildings:
        join += f"JOIN {_HOUSEHOLD} h ON h.id = r.household_id "
        building = "h.building_id"
    least = "LEAST" if pg else "MIN"
    values = ", ".join(
        f"({int(p.committee_id)}, {int(p.base)}, {int(p.taken)}, {int(p.reserve)}, {int(p.left)})"
        for p in plans
    )
    requeue_rank = (
        "row_number() OVER (PARTITION BY cid, nr ORDER BY rq_at, rq_id)"
        if any(p.taken for p in plans)
        else "CAST(NULL AS BIGINT)"
    )
    sql = (
        "w AS ("
        "SELECT r.id AS rid, r.household_id AS hid, r.committee_id AS cid, "
        f"r.queue_number AS qn, {building} AS bid, q.created_at AS rq_at, q.id AS rq_id, "
        "CASE WHEN q.id IS NULL THEN 1 ELSE 0 END AS nr, "
        f"CASE WHEN r.channel IN ({_OFFLINE_SQL}) THEN 1 ELSE 0 END AS off, {key} AS pk "
        f"FROM {_REG} r {join}"
        f"{_REQUEUE_JOIN}"
        f"WHERE {where}), "
        f"rk AS (SELECT w.*, {requeue_rank} AS req_rank, "
        "sum(nr) OVER win AS g, sum(nr * off) OVER win AS offs FROM w "
        "WINDOW win AS (PARTITION BY cid ORDER BY pk ROWS UNBOUNDED PRECEDING)), "
        f"plan(pcid, base, taken, reserve, lft) AS (VALUES {values}), "
        "cl AS (SELECT rk.*, base, taken, reserve, lft, "
        f"CASE WHEN nr = 0 THEN 0 WHEN off = 1 AND offs <= reserve THEN 1 ELSE 2 END AS cls, "
        f"CASE WHEN nr = 0 THEN req_rank WHEN off = 1 AND offs <= reserve THEN offs "
        f"WHEN off = 1 THEN g - reserve ELSE g - {least}(reserve, offs) END AS crank "
        "FROM rk JOIN plan ON pcid = cid)"
    )
    return Query(sql, params + where_params)


def _lottery_join(lottery: Sequence[int] | None, pg: bool) -> tuple[str, list[Any]]:
    """JOIN of the lottery positions ``lot(lrid, pos)`` (one array parameter), or nothing."""
    if lottery is None:
        return "", []
    if pg:
        join = "JOIN unnest(%s::bigint[]) WITH ORDINALITY AS lot(lrid, pos) ON lot.lrid = r.id "
        return join, [list(lottery)]
    join = (
        "JOIN (SELECT CAST(value AS INTEGER) AS lrid, CAST(key AS INTEGER) AS pos "
        "FROM json_each(%s)) lot ON lot.lrid = r.id "
    )
    return join, ["[" + ",".join(str(int(i)) for i in lottery) + "]"]


def building_pool_counts(
    *, round_id: int, plans: Sequence[CommitteePlan]
) -> list[tuple[int, int, int, str, int]]:
    """(committee, building, sort order, label, pool size) for the per-building split."""
    ranked = _ranked(round_id=round_id, plans=plans, lottery=None, buildings=True)
    ranked.select = (
        f"SELECT cid, bid, b.sort_order, b.label, COUNT(*) FROM cl "
        f"JOIN {_BUILDING} b ON b.id = bid WHERE cls = 2 GROUP BY cid, bid, b.sort_order, b.label"
    )
    with connection.cursor() as cursor:
        cursor.execute(ranked.sql, ranked.params)
        return cursor.fetchall()


def picks_query(
    *,
    round_id: int,
    plans: Sequence[CommitteePlan],
    lottery: Sequence[int] | None = None,
    shares: dict[int, int] | None = None,
    delivery: bool = True,
    segments: Sequence[SlotSegment] = (),
    step: int = 0,
    close: int = 0,
) -> Query:
    """The picks in issue order: k, rid, hid, cid, qn, dlv (1 = delivery), s, e (slot seconds).

    Issue order ``k``: committees in run order (``base`` = the quotas of the earlier
    ones), then requeued, offline reserve, general queue (per_building: the chosen
    pool in queue order) — arithmetic on the class ranks, no sort. ``s``/``e`` are
    NULL for delivery and when the day's slots are full. ``delivery=False`` (no
    member of these committees lives alone or is mobility impaired) skips the
    per-row member lookup and the running count of deliveries.
    """
    ranked = _ranked(round_id=round_id, plans=plans, lottery=lottery, buildings=shares is not None)
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    pick = _pick_cte(shares)
    whens = " ".join(
        f"WHEN pr <= {int(s.last)} THEN {int(s.start)} + ((pr - {int(s.first)}) / "
        f"{int(s.per_slot)}) * {int(step)}"
        for s in segments
    )
    nothing = "CAST(NULL AS BIGINT)"  # typed: PostgreSQL cannot add to an untyped NULL
    slot = f"CASE WHEN dlv = 1 THEN NULL {whens} ELSE NULL END" if segments else nothing
    position = (
        "base + CASE cls WHEN 0 THEN okey WHEN 1 THEN taken + okey ELSE taken + reserve + okey END"
    )
    if delivery:
        flagged = (
            f"CASE WHEN EXISTS (SELECT 1 FROM {_MEMBER} m WHERE m.household_id = pick.hid "
            "AND (m.lives_alone OR m.mobility_impaired)) THEN 1 ELSE 0 END"
        )
        pickup_rank = "k - sum(dlv) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING)"
    else:
        flagged, pickup_rank = "0", "k"
    ctes = (
        f"{ranked.ctes}, {pick}, "
        f"seq AS (SELECT rid, hid, cid, qn, {position} AS k, {flagged} AS dlv FROM pick), "
        f"seq2 AS (SELECT seq.*, {pickup_rank} AS pr FROM seq), "
        f"slotted AS (SELECT seq2.*, {slot} AS s FROM seq2), "
        # (PostgreSQL's LEAST skips NULLs: no slot must give no end either.)
        "picks AS (SELECT k, rid, hid, cid, qn, dlv, s, CASE WHEN s IS NULL THEN NULL ELSE "
        f"{least}(s + {int(step)}, {int(close)}) END AS e FROM slotted)"
    )
    return Query(ctes, ranked.params, "SELECT * FROM picks ORDER BY k")


def _pick_cte(shares: dict[int, int] | None) -> str:
    """CTE ``pick``: the chosen registrations with their order key within their class.

    Requeued ones up to ``taken``, the offline reserve, then the general queue: its first
    ``lft`` by class rank, or (per building) each building's share in queue order.
    """
    if shares is None:
        return (
            "pick AS (SELECT cl.*, crank AS okey FROM cl "
            "WHERE (cls = 0 AND crank <= taken) OR cls = 1 OR (cls = 2 AND crank <= lft))"
        )
    values = ", ".join(f"({int(b)}, {int(n)})" for b, n in shares.items())
    values = values or "(CAST(NULL AS BIGINT), 0)"
    return (
        "pb AS (SELECT cl.*, row_number() OVER (PARTITION BY cid, bid, cls ORDER BY qn) "
        f"AS brank FROM cl), share(sbid, nshare) AS (VALUES {values}), "
        "chosen AS (SELECT pb.* FROM pb LEFT JOIN share ON sbid = bid "
        "WHERE (cls = 0 AND crank <= taken) OR cls = 1 "
        "OR (cls = 2 AND brank <= COALESCE(nshare, 0))), "
        "pick AS (SELECT chosen.*, CASE WHEN cls = 2 THEN "
        "row_number() OVER (PARTITION BY cid, cls ORDER BY qn) ELSE crank END AS okey "
        "FROM chosen)"
    )


def _time_sql(expr: str) -> str:
    """A TIME value from seconds after midnight (SQLite stores ``HH:MM:SS`` text)."""
    if connection.vendor == "postgresql":
        return f"(TIME '00:00' + ({expr}) * INTERVAL '1 second')"
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL ELSE "
        f"printf('%%02d:%%02d:%%02d', ({expr}) / 3600, ({expr}) / 60 %% 60, ({expr}) %% 60) END"
    )


def _fixed_columns(
    model: type[models.Model], constants: dict[str, Any], skip: set[str]
) -> tuple[list[str], list[Any]]:
    """(column names, parameters) of the columns that are the same for every row."""
    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in skip:
            continue
        value = constants[field.attname] if field.attname in constants else field.get_default()
        names.append(connection.ops.quote_name(column_of(field)))
        values.append(field.get_db_prep_save(value, connection))
    return names, values


def insert_vouchers(picks: Query, *, codes: bytes, constants: dict[str, Any]) -> int:
    """INSERT the picks as vouchers in issue order; returns the number of rows."""
    pg = connection.vendor == "postgresql"
    varying = {
        "registration_id": "rid",
        "household_id": "hid",
        "committee_id": "cid",
        "slot_start": _time_sql("s"),
        "slot_end": _time_sql("e"),
        "fulfilment": "CASE WHEN dlv = 1 THEN 'delivery' ELSE 'pickup' END",
        "code": (
            f"convert_from(substring(%s::bytea FROM ((k - 1) * {CODE_WIDTH} + 1)::int "
            f"FOR {CODE_WIDTH}), 'UTF8')"
            if pg
            else f"CAST(substr(%s, (k - 1) * {CODE_WIDTH} + 1, {CODE_WIDTH}) AS TEXT)"
        ),
    }
    names, values = _fixed_columns(Voucher, constants, set(varying))
    columns = ", ".join([*(connection.ops.quote_name(c) for c in varying), *names])
    select = ", ".join([*varying.values(), *(["%s"] * len(values))])
    sql = (
        # INSERT first (not WITH … INSERT): Python's sqlite3 reports rowcount only then.
        f"INSERT INTO {_VOUCHER} ({columns}) WITH {picks.ctes} "
        f"SELECT {select} FROM picks ORDER BY k"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*picks.params, codes, *values])
        return cursor.rowcount


def insert_sms(
    *, supply_day_id: int, after_id: int, parts: dict[str, Any], constants: dict[str, Any]
) -> int:
    """One "voucher" SMS outbox row (core/sms.py) per voucher of the day with id >
    ``after_id`` whose household has a mobile, in voucher order; ``parts`` from
    ``allocation.notify.sms_parts``."""
    pg = connection.vendor == "postgresql"
    if pg:
        hhmm = "to_char(v.slot_start, 'HH24:MI')", "to_char(v.slot_end, 'HH24:MI')"
    else:
        hhmm = "substr(v.slot_start, 1, 5)", "substr(v.slot_end, 1, 5)"
    code = "substr(v.code, 1, 4) || '-' || substr(v.code, 5, 5) || '-' || substr(v.code, 10)"
    when = (
        "CASE WHEN v.fulfilment = 'delivery' THEN %s "
        "WHEN v.slot_start IS NOT NULL AND v.slot_end IS NOT NULL "
        f"THEN %s || {hhmm[0]} || '-' || {hhmm[1]} || %s ELSE %s END"
    )
    fixed: dict[str, str] = parts["fixed"]
    build = "jsonb_build_object" if pg else "json_object"
    variables = ", ".join(
        [f"'code', {code}", f"'when', {when}", *(f"'{name}', CAST(%s AS TEXT)" for name in fixed)]
    )
    params = [parts["delivery"], parts["slot_before"], parts["slot_after"], parts["anytime"]]
    params += [*fixed.values(), parts["lang"]]
    payload = f"{build}('phone', r.phone, 'kind', 'voucher', 'vars', {build}({variables}), "
    varying = {
        "payload": payload + "'lang', CAST(%s AS TEXT))",
        "household_id": "v.household_id",
    }
    names, values = _fixed_columns(OutboxMessage, constants, set(varying))
    columns = ", ".join([*(connection.ops.quote_name(c) for c in varying), *names])
    select = ", ".join([*varying.values(), *(["%s"] * len(values))])
    sql = (
        f"INSERT INTO {_OUTBOX} ({columns}) SELECT {select} FROM {_VOUCHER} v "
        f"JOIN {_REG} r ON r.id = v.registration_id "
        f"WHERE v.supply_day_id = %s AND v.id > %s AND {stored_mobile_sql('r.phone')} "
        "ORDER BY v.id"  # no mobile: told by hand (allocation/by_hand.py), nothing to fail
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *values, supply_day_id, after_id])
        return cursor.rowcount
