"""Database side of the benchmark: fresh database, storage baselines, bulk set-up, invariants.

Functions taking no ``env`` run inside the harness process after ``django_setup``; the
invariant checks are plain SQL (portable between SQLite and PostgreSQL). Who is waiting
is the product's own rule (``fairshare.allocation.waiting``); the allocation baselines
(``raw_insert_select``, ``schema_floor``) are in ``allocation_baselines.py``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

# The allocation baselines live in their own module; bench/run.py calls them as dbwork.…
from allocation_baselines import raw_insert_select, schema_floor  # noqa: F401


def prepare_database(*, database_url: str, data_dir: Path) -> str:
    """Fresh data folder; for PostgreSQL drop and re-create the (bench) database."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if not database_url:
        return "sqlite"
    name = urlparse(database_url).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    import psycopg

    admin = urlparse(database_url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return "postgresql"


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fairshare.settings")
    import django

    django.setup()


def close_connections() -> None:
    from django.db import connections

    connections.close_all()


# --- storage ceiling -------------------------------------------------------------------


_SCRATCH_ROW = ("BK0000000000", "张*", "13800000000", 1, 1)
_SCRATCH_DDL = (
    "CREATE TABLE bench_scratch_insert (id {pk}, ticket varchar(16), name varchar(64), "
    "phone varchar(20), committee_id bigint, queue_number integer)"
)
_SCRATCH_INSERT = (
    "INSERT INTO bench_scratch_insert (ticket, name, phone, committee_id, queue_number) "
    "VALUES ({p}, {p}, {p}, {p}, {p})"
)


def raw_insert_rate(*, database_url: str, data_dir: Path, seconds: float) -> dict[str, Any]:
    """Single-row INSERT + COMMIT in a loop with the bare driver, into a scratch table."""
    lat: list[float] = []  # per INSERT+COMMIT: the storage's latency tail (fsync)
    if not database_url:
        elapsed, driver = _sqlite_insert_loop(data_dir / "fairshare.sqlite3", seconds, lat)
    else:
        elapsed, driver = _pg_insert_loop(database_url, seconds, lat)
    n = len(lat)
    return {
        "rows": n,
        "seconds": round(elapsed, 3),
        "rows_per_s": round(n / elapsed, 1),
        "driver": driver,
        "connections": 1,
        **_latency_ms(lat),
    }


def _sqlite_insert_loop(path: Path, seconds: float, lat: list[float]) -> tuple[float, str]:
    conn = sqlite3.connect(path, isolation_level=None, timeout=20)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=20000"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("DROP TABLE IF EXISTS bench_scratch_insert")
    conn.execute(_SCRATCH_DDL.format(pk="INTEGER PRIMARY KEY AUTOINCREMENT"))
    sql = _SCRATCH_INSERT.format(p="?")
    t0 = time.perf_counter()
    while (start := time.perf_counter()) - t0 < seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql, _SCRATCH_ROW)
        conn.execute("COMMIT")
        lat.append(time.perf_counter() - start)
    elapsed = time.perf_counter() - t0
    conn.execute("DROP TABLE bench_scratch_insert")
    conn.close()
    return elapsed, f"sqlite3 {sqlite3.sqlite_version} (WAL, synchronous=FULL, BEGIN IMMEDIATE)"


def _pg_insert_loop(database_url: str, seconds: float, lat: list[float]) -> tuple[float, str]:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_scratch_insert")
        conn.execute(_SCRATCH_DDL.format(pk="bigserial PRIMARY KEY"))
        sql = _SCRATCH_INSERT.format(p="%s")
        t0 = time.perf_counter()
        while (start := time.perf_counter()) - t0 < seconds:
            conn.execute(sql, _SCRATCH_ROW)  # autocommit: one transaction, one commit per row
            lat.append(time.perf_counter() - start)
        elapsed = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_scratch_insert")
    return elapsed, f"psycopg {psycopg.__version__} (autocommit, synchronous_commit default)"


def _latency_ms(lat: list[float]) -> dict[str, float | None]:
    s = sorted(lat)
    if not s:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    pick = lambda q: round(1000 * s[min(len(s) - 1, int(q * len(s)))], 3)  # noqa: E731
    return {"p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": round(1000 * s[-1], 3)}


# --- allocation set-up ------------------------------------------------------------------

NAMES = (
    "王建国",
    "李秀英",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄敏",
    "周杰",
    "吴芳",
    "徐丽",
    "孙强",
    "胡军",
    "朱燕",
    "高峰",
    "林娜",
    "何平",
    "郭涛",
    "马超",
    "罗霞",
)
PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "180",
    "181",
    "186",
    "188",
)


def mobile(i: int) -> str:
    """A valid mainland mobile number (13x/15x/18x), distinct per ``i`` below 10**8."""
    return PREFIXES[i % len(PREFIXES)] + f"{(i * 7919) % 100_000_000:08d}"


def open_round_id() -> int:
    from fairshare.rounds.models import Round

    return Round.objects.filter(status="open").order_by("id").values_list("id", flat=True)[0]


def extra_round_id(name: str) -> int:
    """A further open round like the first one (fresh queues for a ceiling measurement)."""
    from fairshare.rounds.models import Round

    first = Round.objects.get(pk=open_round_id())
    first.pk = None
    first.name = name
    first.save()
    return first.pk


def waiting_count(round_id: int) -> int:
    """The round's waiting registrations (the product's rule, ``fairshare.allocation.waiting``)."""
    from django.db import connection

    from fairshare.allocation.waiting import waiting_sql

    where, params = waiting_sql(round_id=round_id)
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM registration_registration r WHERE {where}", params)
        return cur.fetchone()[0]


def top_up_waiting(*, round_id: int, target: int) -> int:
    """Bulk-create verified registrations for unregistered households until ``target`` wait.

    Queue numbers continue each (round, committee) counter, so the queue stays gapless.
    (No ledger links: the hash chain is not what allocation reads.) Returns rows created.
    """
    from django.db import transaction
    from django.utils import timezone

    from fairshare.community.models import Household
    from fairshare.core.locking import lock_rows
    from fairshare.registration.models import QueueCounter, Registration

    need = target - waiting_count(round_id)
    if need <= 0:
        return 0
    taken = Registration.objects.filter(round_id=round_id).exclude(status="void")
    households = list(
        Household.objects.exclude(id__in=taken.values("household_id"))
        .order_by("committee_id", "id")
        .values_list("id", "committee_id")[:need]
    )
    if len(households) < need:
        raise RuntimeError(f"only {len(households)} unregistered households; {need} needed")
    now = timezone.now()
    with transaction.atomic():
        counters = {
            c.committee_id: c for c in lock_rows(QueueCounter.objects.filter(round_id=round_id))
        }
        rows = []
        for i, (household_id, committee_id) in enumerate(households):
            counter = counters.get(committee_id)
            if counter is None:
                counter = QueueCounter.objects.create(round_id=round_id, committee_id=committee_id)
                counters[committee_id] = counter
            counter.last_number += 1
            rows.append(
                Registration(
                    round_id=round_id,
                    committee_id=committee_id,
                    household_id=household_id,
                    queue_number=counter.last_number,
                    ticket=f"BK{i:010d}",
                    channel="desk" if i % 10 == 0 else "online",
                    status="verified",
                    name=NAMES[i % len(NAMES)],
                    phone=mobile(i),
                    acknowledged_at=now + timedelta(microseconds=i),
                )
            )
        Registration.objects.bulk_create(rows, batch_size=5000)
        QueueCounter.objects.bulk_update(counters.values(), ["last_number"], batch_size=1000)
    return len(rows)


def waiting_by_pharmacy(round_id: int) -> dict[int, int]:
    """Waiting registrations per pharmacy (the product's rule, as ``waiting_count``)."""
    from django.db import connection

    from fairshare.allocation.waiting import waiting_sql

    where, params = waiting_sql(round_id=round_id)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.pharmacy_id, COUNT(*) FROM registration_registration r "
            f"JOIN community_committee c ON c.id = r.committee_id WHERE {where} "
            "GROUP BY c.pharmacy_id",
            params,
        )
        return dict(cur.fetchall())


def supply_create(*, round_id: int, day: date) -> dict[int, int]:
    """Confirmed supply for ``day`` at every pharmacy = its committees' waiting households."""
    from fairshare.allocation.services import supply_declare
    from fairshare.community.models import Pharmacy

    packs_by_pharmacy = waiting_by_pharmacy(round_id)
    for pharmacy in Pharmacy.objects.filter(id__in=packs_by_pharmacy):
        supply_declare(
            pharmacy=pharmacy,
            date=day,
            packs=packs_by_pharmacy[pharmacy.id],
            manufacturer="上海大胜",
            style="一次性医用口罩",
            unit_price="2.50",
            actor=None,
        )
    return packs_by_pharmacy


# --- invariants ---------------------------------------------------------------------------


def _one(sql: str, params: list[Any] | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


def _in(values: tuple[str, ...]) -> str:
    """``IN`` list of fixed model constants (e.g. ``Voucher.LIVE_STATUSES``) as SQL literals."""
    return ", ".join(f"'{value}'" for value in values)


def invariants(
    *, acked_tickets: list[str] | None = None, redeem_outcomes: list[list[Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Every invariant by SQL; each entry has ``ok`` and a short ``detail``."""
    out: dict[str, dict[str, Any]] = {}
    if acked_tickets is not None:
        live = {
            t
            for (t,) in _one("SELECT ticket FROM registration_registration WHERE status <> 'void'")
        }
        missing = [t for t in acked_tickets if t not in live]
        dup_acks = len(acked_tickets) - len(set(acked_tickets))
        out["acknowledged_present"] = {
            "ok": not missing and not dup_acks,
            "detail": f"{len(acked_tickets)} acknowledged (201), {len(missing)} missing, "
            f"{dup_acks} tickets acknowledged twice",
        }
    dups = _one(
        "SELECT round_id, household_id, COUNT(*) FROM registration_registration "
        "WHERE status <> 'void' GROUP BY round_id, household_id HAVING COUNT(*) > 1"
    )
    out["one_live_registration_per_household"] = {
        "ok": not dups,
        "detail": f"{len(dups)} households with >1 live registration",
    }
    gaps = _one(
        "SELECT r.round_id, r.committee_id, COUNT(*), MIN(r.queue_number), MAX(r.queue_number), "
        "MAX(q.last_number) FROM registration_registration r LEFT JOIN registration_queuecounter "
        "q ON q.round_id = r.round_id AND q.committee_id = r.committee_id "
        "GROUP BY r.round_id, r.committee_id"
    )
    bad = [g for g in gaps if not (g[3] == 1 and g[4] == g[2] and g[5] in (None, g[4]))]
    out["gapless_queue_numbers"] = {
        "ok": not bad,
        "detail": f"{len(gaps)} queues, {sum(g[2] for g in gaps)} registrations, "
        f"{len(bad)} queues with gaps/duplicates or counter mismatch",
    }
    out.update(_voucher_invariants(redeem_outcomes))
    return out


def _voucher_invariants(redeem_outcomes: list[list[Any]] | None) -> dict[str, dict[str, Any]]:
    """Vouchers within supply; one live voucher per household; no double redemption."""
    from fairshare.allocation.models import Voucher

    over = _one(
        "SELECT s.id, s.packs, SUM(v.packs) FROM allocation_supplyday s JOIN allocation_voucher v "
        f"ON v.supply_day_id = s.id WHERE v.status IN ({_in(Voucher.ISSUED_STATUSES)}) "
        "GROUP BY s.id, s.packs HAVING SUM(v.packs) > s.packs"
    )
    n_days = _one("SELECT COUNT(*) FROM allocation_supplyday")[0][0]
    out: dict[str, dict[str, Any]] = {}
    out["vouchers_within_supply"] = {
        "ok": not over,
        "detail": f"{n_days} pharmacy-days, {len(over)} over supply",
    }
    live_v = _one(
        "SELECT round_id, household_id, COUNT(*) FROM allocation_voucher WHERE status "
        f"IN ({_in(Voucher.LIVE_STATUSES)}) GROUP BY round_id, household_id HAVING COUNT(*) > 1"
    )
    inconsistent = _one(
        "SELECT COUNT(*) FROM allocation_voucher WHERE (status = 'redeemed') <> "
        "(redeemed_at IS NOT NULL)"
    )[0][0]
    check: dict[str, Any] = {
        "ok": not live_v and not inconsistent,
        "detail": f"{len(live_v)} households with >1 live voucher, {inconsistent} vouchers with "
        "status/redeemed_at mismatch",
    }
    if redeem_outcomes is not None:
        wins = Counter(tag for tag, status in redeem_outcomes if status == 200)
        twice = [code for code, n in wins.items() if n > 1]
        redeemed = {
            c for (c,) in _one("SELECT code FROM allocation_voucher WHERE status = 'redeemed'")
        }
        not_marked = [c for c in wins if c not in redeemed]
        check["ok"] = check["ok"] and not twice and not not_marked
        check["detail"] += (
            f"; {sum(wins.values())} redemptions answered 200, {len(twice)} "
            f"codes redeemed twice, {len(not_marked)} 200s not marked redeemed"
        )
    out["no_double_redemption"] = check
    return out
