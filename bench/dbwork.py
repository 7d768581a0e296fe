"""Database side of the benchmark: fresh database, storage baselines, bulk set-up, invariants.

Functions taking no ``env`` run inside the harness process after ``django_setup``; the
invariant checks are plain SQL (portable between SQLite and PostgreSQL).
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


def raw_insert_rate(*, database_url: str, data_dir: Path, seconds: float) -> dict[str, Any]:
    """Single-row INSERT + COMMIT in a loop with the bare driver, into a scratch table."""
    row = ("BK0000000000", "张*", "13800000000", 1, 1)
    ddl = (
        "CREATE TABLE bench_scratch_insert (id {pk}, ticket varchar(16), name varchar(64), "
        "phone varchar(20), committee_id bigint, queue_number integer)"
    )
    n = 0
    lat: list[float] = []  # per INSERT+COMMIT: the storage's latency tail (fsync)
    if not database_url:
        path = data_dir / "fairshare.sqlite3"
        conn = sqlite3.connect(path, isolation_level=None, timeout=20)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            "busy_timeout=20000",
        ):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("DROP TABLE IF EXISTS bench_scratch_insert")
        conn.execute(ddl.format(pk="INTEGER PRIMARY KEY AUTOINCREMENT"))
        t0 = time.perf_counter()
        while (start := time.perf_counter()) - t0 < seconds:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO bench_scratch_insert (ticket, name, phone, committee_id, "
                "queue_number) VALUES (?, ?, ?, ?, ?)",
                row,
            )
            conn.execute("COMMIT")
            lat.append(time.perf_counter() - start)
            n += 1
        elapsed = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_scratch_insert")
        conn.close()
        driver = f"sqlite3 {sqlite3.sqlite_version} (WAL, synchronous=FULL, BEGIN IMMEDIATE)"
    else:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_scratch_insert")
            conn.execute(ddl.format(pk="bigserial PRIMARY KEY"))
            sql = (
                "INSERT INTO bench_scratch_insert (ticket, name, phone, committee_id, "
                "queue_number) VALUES (%s, %s, %s, %s, %s)"
            )
            t0 = time.perf_counter()
            while (start := time.perf_counter()) - t0 < seconds:
                conn.execute(sql, row)  # autocommit: one transaction, one commit per row
                lat.append(time.perf_counter() - start)
                n += 1
            elapsed = time.perf_counter() - t0
            conn.execute("DROP TABLE bench_scratch_insert")
        driver = f"psycopg {psycopg.__version__} (autocommit, synchronous_commit default)"
    return {
        "rows": n,
        "seconds": round(elapsed, 3),
        "rows_per_s": round(n / elapsed, 1),
        "driver": driver,
        "connections": 1,
        **_latency_ms(lat),
    }


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
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM registration_registration r WHERE r.round_id = %s "
            "AND r.status <> 'void' AND NOT EXISTS (SELECT 1 FROM allocation_voucher v "
            "WHERE v.registration_id = r.id AND v.status IN ('issued', 'redeemed'))",
            [round_id],
        )
        return cur.fetchone()[0]


def top_up_waiting(*, round_id: int, target: int) -> int:
    """Bulk-create verified registrations for unregistered households until ``target`` wait.

    Queue numbers continue each (round, committee) counter, so the queue stays gapless.
    (No ledger links: the hash chain is not what allocation reads.) Returns rows created.
    """
    from django.db import transaction
    from django.utils import timezone

    from fairshare.community.models import Household
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
            c.committee_id: c
            for c in QueueCounter.objects.select_for_update().filter(round_id=round_id)
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
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.pharmacy_id, COUNT(*) FROM registration_registration r "
            "JOIN community_committee c ON c.id = r.committee_id WHERE r.round_id = %s "
            "AND r.status <> 'void' AND NOT EXISTS (SELECT 1 FROM allocation_voucher v WHERE "
            "v.registration_id = r.id AND v.status IN ('issued', 'redeemed')) "
            "GROUP BY c.pharmacy_id",
            [round_id],
        )
        return dict(cur.fetchall())


def supply_create(*, round_id: int, day: date) -> dict[int, int]:
    """Confirmed supply for ``day`` at every pharmacy = its committees' waiting households.

    Through ``supply_declare`` when this build has it; otherwise rows as the models define.
    """
    from decimal import Decimal

    from django.db import transaction

    from fairshare.allocation.models import SupplyDay, SupplyDeclaration
    from fairshare.community.models import Pharmacy

    packs_by_pharmacy = waiting_by_pharmacy(round_id)
    try:
        from fairshare.allocation.services import supply_declare
    except ImportError:
        supply_declare = None
    if supply_declare is not None:
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
    with transaction.atomic():
        for pharmacy_id, packs in packs_by_pharmacy.items():
            supply_day, _ = SupplyDay.objects.get_or_create(pharmacy_id=pharmacy_id, date=day)
            SupplyDeclaration.objects.create(
                supply_day=supply_day,
                packs=packs,
                manufacturer="上海大胜",
                style="一次性医用口罩",
                unit_price=Decimal("2.50"),
            )
            supply_day.packs += packs
            supply_day.save(update_fields=["packs"])
    return packs_by_pharmacy


def raw_insert_select(*, round_id: int, day: date) -> dict[str, Any]:
    """The baseline: the same waiting rows turned into voucher-shaped rows in one statement."""
    from django.db import connection, transaction

    vendor = connection.vendor
    code = (
        "lower(hex(randomblob(6)))" if vendor == "sqlite" else "substr(md5(random()::text), 1, 12)"
    )
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if vendor == "sqlite" else "bigserial PRIMARY KEY"
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_scratch_voucher")
        cur.execute(
            f"CREATE TABLE bench_scratch_voucher (id {pk}, round_id bigint, registration_id "
            "bigint, household_id bigint, committee_id bigint, pharmacy_id bigint, date date, "
            "code varchar(16), packs integer, status varchar(12), issued_at timestamp)"
        )
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO bench_scratch_voucher (round_id, registration_id, household_id, "
            "committee_id, pharmacy_id, date, code, packs, status, issued_at) "
            f"SELECT r.round_id, r.id, r.household_id, r.committee_id, c.pharmacy_id, %s, {code}, "
            "1, 'issued', CURRENT_TIMESTAMP FROM registration_registration r "
            "JOIN community_committee c ON c.id = r.committee_id "
            "WHERE r.round_id = %s AND r.status <> 'void' AND NOT EXISTS (SELECT 1 FROM "
            "allocation_voucher v WHERE v.registration_id = r.id AND v.status IN "
            "('issued', 'redeemed')) ORDER BY r.committee_id, r.queue_number",
            [day, round_id],
        )
        rows = cur.rowcount
    elapsed = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_scratch_voucher")
    return {"rows": rows, "seconds": round(elapsed, 3)}


def schema_floor(*, round_id: int, day: date, sms: bool = True) -> dict[str, Any]:
    """What the schema costs: the same waiting rows INSERT…SELECTed into the real voucher
    table (its indexes, unique codes, foreign keys; a constant slot, a random code, no
    ranking) plus one SMS outbox row each (JSON payload), foreign keys checked, then rolled
    back. Any allocation writing these rows pays this, whatever its planner. ``sms=False``:
    the voucher rows alone. The wall and (in-process, so SQLite's) CPU seconds."""
    from django.db import connection, transaction
    from django.utils import timezone

    vendor = connection.vendor
    code = (
        "upper(hex(randomblob(6)))"
        if vendor == "sqlite"
        else "upper(substr(md5(random()::text), 1, 12))"
    )
    payload = "json_object" if vendor == "sqlite" else "jsonb_build_object"
    now = timezone.now()
    vouchers = (
        "INSERT INTO allocation_voucher (round_id, registration_id, household_id, committee_id, "
        "pharmacy_id, supply_day_id, declaration_id, date, slot_start, slot_end, valid_until, "
        "code, packs, fulfilment, status, issued_at) "
        "SELECT r.round_id, r.id, r.household_id, r.committee_id, c.pharmacy_id, sd.id, d.id, "
        f"%s, '09:00:00', '09:02:00', %s, {code}, 1, 'pickup', 'issued', %s "
        "FROM registration_registration r JOIN community_committee c ON c.id = r.committee_id "
        "JOIN allocation_supplyday sd ON sd.pharmacy_id = c.pharmacy_id AND sd.date = %s "
        "JOIN allocation_supplydeclaration d ON d.supply_day_id = sd.id "
        "AND d.superseded_by_id IS NULL "
        "WHERE r.round_id = %s AND r.status <> 'void' AND NOT EXISTS (SELECT 1 FROM "
        "allocation_voucher v WHERE v.registration_id = r.id AND v.status IN "
        "('issued', 'redeemed')) ORDER BY r.committee_id, r.queue_number"
    )
    sms_sql = (
        "INSERT INTO core_outboxmessage (kind, payload, status, attempts, available_at, "
        "claim_token, last_error, created_at, household_id) "
        f"SELECT 'sms', {payload}('phone', r.phone, 'text', %s || v.code || %s), 'pending', 0, "
        "%s, '', '', %s, v.household_id FROM allocation_voucher v "
        "JOIN registration_registration r ON r.id = v.registration_id "
        "WHERE v.round_id = %s AND v.date = %s AND v.issued_at = %s ORDER BY v.id"
    )
    text = ("【公平配】您的口罩购买凭证号", "。请于明天 09:00-09:02 到药房购买。" * 2)
    t0, c0 = time.perf_counter(), time.process_time()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(vouchers, [day, day, now, day, round_id])
        rows = cur.rowcount
        if sms:
            cur.execute(sms_sql, [*text, now, now, round_id, day, now])
        if vendor == "postgresql":
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        else:
            cur.execute("PRAGMA foreign_key_check")
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        transaction.set_rollback(True)
    return {"rows": rows, "seconds": round(elapsed, 3), "cpu_seconds": round(cpu, 3)}


# --- invariants ---------------------------------------------------------------------------


def _one(sql: str, params: list[Any] | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


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
    over = _one(
        "SELECT s.id, s.packs, SUM(v.packs) FROM allocation_supplyday s JOIN allocation_voucher v "
        "ON v.supply_day_id = s.id WHERE v.status IN ('issued', 'redeemed', 'expired') "
        "GROUP BY s.id, s.packs HAVING SUM(v.packs) > s.packs"
    )
    n_days = _one("SELECT COUNT(*) FROM allocation_supplyday")[0][0]
    out["vouchers_within_supply"] = {
        "ok": not over,
        "detail": f"{n_days} pharmacy-days, {len(over)} over supply",
    }
    live_v = _one(
        "SELECT round_id, household_id, COUNT(*) FROM allocation_voucher WHERE status "
        "IN ('issued', 'redeemed') GROUP BY round_id, household_id HAVING COUNT(*) > 1"
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
