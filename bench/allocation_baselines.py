"""The allocation step's baselines: what the storage and the schema cost for the same rows.

Both take the round's waiting registrations (the product's own rule,
``fairshare.allocation.waiting``) and run inside the harness process after
``dbwork.django_setup``:

* ``raw_insert_select``: the same waiting rows INSERT…SELECTed into an unindexed scratch
  table (what the storage costs);
* ``schema_floor``: the same rows into the real voucher table plus one SMS outbox row each
  and the ledger's ``allocation`` link per committee (the served list read back, hashed,
  appended under the counter lock), rolled back (what the schema costs, whatever the
  planner).
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any


def raw_insert_select(*, round_id: int, day: date) -> dict[str, Any]:
    """The baseline: the same waiting rows turned into voucher-shaped rows in one statement."""
    from django.db import connection, transaction

    from fairshare.allocation.waiting import waiting_sql

    vendor = connection.vendor
    code = (
        "lower(hex(randomblob(6)))" if vendor == "sqlite" else "substr(md5(random()::text), 1, 12)"
    )
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if vendor == "sqlite" else "bigserial PRIMARY KEY"
    where, params = waiting_sql(round_id=round_id)
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
            f"WHERE {where} ORDER BY r.committee_id, r.queue_number",
            [day, *params],
        )
        rows = cur.rowcount
    elapsed = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_scratch_voucher")
    return {"rows": rows, "seconds": round(elapsed, 3)}


def schema_floor(*, round_id: int, day: date, sms: bool = True) -> dict[str, Any]:
    """What the schema costs: the same waiting rows INSERT…SELECTed into the real voucher
    table (its indexes, unique codes, foreign keys; a constant slot, a random code, no
    ranking) plus one SMS outbox row each (JSON payload) and one ``allocation`` ledger link
    per committee (``_ledger_rows``), foreign keys checked, then rolled back. Any
    allocation writing these rows pays this, whatever its planner. ``sms=False``: the
    voucher rows alone (no SMS, no ledger). The wall and (in-process, so SQLite's) CPU
    seconds."""
    from django.db import connection, transaction
    from django.utils import timezone

    from fairshare.allocation.waiting import waiting_sql

    vendor = connection.vendor
    code = (
        "upper(hex(randomblob(6)))"
        if vendor == "sqlite"
        else "upper(substr(md5(random()::text), 1, 12))"
    )
    payload = "json_object" if vendor == "sqlite" else "jsonb_build_object"
    now = timezone.now()
    where, params = waiting_sql(round_id=round_id)
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
        f"WHERE {where} ORDER BY r.committee_id, r.queue_number"
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
        cur.execute(vouchers, [day, day, now, day, *params])
        rows = cur.rowcount
        if sms:
            cur.execute(sms_sql, [*text, now, now, round_id, day, now])
            _ledger_rows(round_id=round_id, day=day, issued_at=now)
        if vendor == "postgresql":
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        else:
            cur.execute("PRAGMA foreign_key_check")
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        transaction.set_rollback(True)
    return {"rows": rows, "seconds": round(elapsed, 3), "cpu_seconds": round(cpu, 3)}


def _ledger_rows(*, round_id: int, day: date, issued_at: Any) -> int:
    """The ledger's share of the floor: the served list read back in one SELECT (issue
    order), then one ``allocation`` link per committee through the product's queue (the
    counter lock, the canonical payload and its hash, the counter update)."""
    from django.db import connection

    from fairshare.registration import queue
    from fairshare.registration.ledger import allocation_payload

    with connection.cursor() as cur:
        cur.execute(
            "SELECT v.committee_id, r.queue_number, v.fulfilment, v.slot_start "
            "FROM allocation_voucher v JOIN registration_registration r "
            "ON r.id = v.registration_id "
            "WHERE v.round_id = %s AND v.date = %s AND v.issued_at = %s ORDER BY v.id",
            [round_id, day, issued_at],
        )
        served: dict[int, list[list[Any]]] = {}
        for committee_id, number, fulfilment, start in cur.fetchall():
            served.setdefault(committee_id, []).append([number, fulfilment, str(start)[:5]])
    counters = queue.counters_lock((round_id, c) for c in served)
    for (_round, committee_id), counter in counters.items():
        items = served[committee_id]

        def payload(seq: int, items: list[list[Any]] = items) -> dict[str, Any]:
            return allocation_payload(
                seq=seq,
                run=0,
                pharmacy="",
                day=day.isoformat(),
                policy="fcfs",
                reserve_pct=0,
                quota=len(items),
                requeued=0,
                reserve=0,
                general=len(items),
                buildings=None,
                seed=None,
                carried_first=False,
                served=items,
                at_iso="",
            )

        queue.ledger_append(counter, [("allocation", None, payload)])
    return len(counters)
