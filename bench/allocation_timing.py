"""Time the allocation engine on 100,000 waiting registrations (a plain script, not a test).

One pharmacy serves 5 committees with 20,000 waiting registrations each (online and
offline channels, 40 buildings per committee, 10 % offline reserve) and declares
100,000 packs; the script times one ``allocation_run`` that issues all of them
(vouchers, time slots, SMS outbox rows, in one transaction), then a re-run that
must issue nothing.

    # SQLite (a throw-away data folder):
    FAIRSHARE_DATA_DIR=/tmp/fs-bench DATABASE_URL= .venv/bin/python bench/allocation_timing.py
    # PostgreSQL (creates its rows in that database; --cleanup removes nothing else):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_alloc .venv/bin/python \\
        bench/allocation_timing.py

Options: --per-committee N (default 20000), --committees N (default 5),
--policy fcfs|per_building|lottery, --reuse (time the newest bench round of this database
that still has its queue untouched, instead of building a new one: copy a prepared SQLite
file or ``CREATE DATABASE … TEMPLATE`` and pass --reuse to skip the 30 s set-up),
--profile FILE (cProfile of the timed ``allocation_run`` only), --delivery-every N (every
N-th household gets a member living alone: delivery vouchers, no slot), --floors (see
``_floors``).

Before the run the script times the raw baseline of ``bench/allocation_baselines.py``
(``INSERT … SELECT`` of the same waiting rows into an unindexed scratch table, twice;
the second figure is kept) in the same process, and prints the ratio.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from typing import Any


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--committees", type=int, default=5)
    parser.add_argument("--per-committee", type=int, default=20_000)
    parser.add_argument("--policy", default="fcfs", choices=["fcfs", "per_building", "lottery"])
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--profile", default="")
    parser.add_argument("--setup-only", action="store_true", help="build the queue, then stop")
    parser.add_argument(
        "--delivery-every",
        type=int,
        default=0,
        help="N: every N-th household gets a member who lives alone (delivery, no slot)",
    )
    parser.add_argument(
        "--floors",
        action="store_true",
        help="also time what the schema costs (see _floors), in the same process, rolled back",
    )
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fairshare.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    t0 = time.perf_counter()
    rnd, pharmacy, total = _queue(args)
    setup_s = time.perf_counter() - t0
    vendor = connection.vendor
    if args.setup_only:
        print(f"database={vendor} set up {total} waiting registrations in {setup_s:.1f}s")
        return 0

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import allocation_baselines

    day = timezone.localdate()
    for _ in range(2):  # the first warms the cache; the second is kept
        c0 = time.process_time()
        raw = allocation_baselines.raw_insert_select(round_id=rnd.pk, day=day)["seconds"]
        raw_cpu = time.process_time() - c0
    if args.delivery_every:
        _delivery_members(pharmacy, args.delivery_every)
    floors = _floors(rnd, pharmacy, day) if args.floors else None
    times = _timed_runs(rnd, pharmacy, args.profile)
    print(
        f"database={vendor} policy={args.policy} waiting={total} "
        f"setup={setup_s:.1f}s dry_run={times['dry_s']:.2f}s allocation={times['run_s']:.2f}s "
        f"issued={times['issued']} rerun={times['rerun_s']:.2f}s (issued {times['again']})"
    )
    _print_ratios(vendor, times, raw, raw_cpu, floors)
    return 0


def _queue(args: argparse.Namespace) -> tuple[Any, Any, int]:
    """(round, pharmacy, waiting registrations): the newest untouched bench round with
    ``--reuse``, else a new district, pharmacy, committees and queues, and the supply."""
    from fairshare.allocation.models import Voucher
    from fairshare.community.models import Pharmacy
    from fairshare.registration.models import Registration
    from fairshare.rounds.models import Round

    rnd = Round.objects.filter(name__startswith="bench ").order_by("-id").first()
    if args.reuse and rnd is not None and not Voucher.objects.filter(round=rnd).exists():
        pharmacy = Pharmacy.objects.get(code="BP" + rnd.name.split()[-1])
        if rnd.policy != args.policy:
            rnd.policy = args.policy
            rnd.save(update_fields=["policy"])
        return rnd, pharmacy, Registration.objects.filter(round=rnd).count()
    return _queue_new(args)


def _queue_new(args: argparse.Namespace) -> tuple[Any, Any, int]:
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from fairshare.allocation.lottery import commitment_of, seed_new
    from fairshare.allocation.services import supply_declare
    from fairshare.community.models import Committee, District, Pharmacy, Subdistrict
    from fairshare.rounds.models import Round

    tag = secrets.token_hex(3).upper()
    total = args.committees * args.per_committee
    district, _ = District.objects.get_or_create(code="BENCH", defaults={"name": "基准区"})
    sub = Subdistrict.objects.create(district=district, code=f"BS{tag}", name=f"基准街道{tag}")
    pharmacy = Pharmacy.objects.create(
        subdistrict=sub,
        code=f"BP{tag}",
        name="基准药房",
        address="基准路1号",
        slot_minutes=2,
        customers_per_slot=1,  # the seeds' "about 2 minutes per person"
    )
    now = timezone.now()
    seed = seed_new()
    rnd = Round.objects.create(
        district=district,
        name=f"bench {tag}",
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=now - timedelta(minutes=1),
        valid_from=timezone.localdate(),
        valid_until=timezone.localdate() + timedelta(days=10),
        status="open",
        policy=args.policy,
        offline_reserve_pct=10,
        lottery_commitment=commitment_of(seed),
        lottery_seed=seed,
    )
    for c in range(args.committees):
        committee = Committee.objects.create(
            subdistrict=sub, code=f"B{tag}{c:02d}", name=f"基准居委{c}", pharmacy=pharmacy
        )
        _committee_queue(rnd, committee, f"{tag}{c:02d}", f"139{c:02d}", args.per_committee)
    supply_declare(
        pharmacy=pharmacy,
        date=timezone.localdate(),
        packs=min(total, 100_000),
        manufacturer="上海某医疗用品有限公司",
        style="一次性医用口罩",
        unit_price=Decimal("2.50"),
        actor=None,
    )
    return rnd, pharmacy, total


def _committee_queue(rnd: Any, committee: Any, ticket: str, phone: str, size: int) -> None:
    """40 buildings, ``size`` households and their verified registrations, in bulk."""
    from django.utils import timezone

    from fairshare.community.models import Building, Household
    from fairshare.registration.models import Registration

    channels = ["online", "online", "online", "desk", "phone"]
    buildings = Building.objects.bulk_create(
        [Building(committee=committee, label=f"{b}号", sort_order=b) for b in range(40)]
    )
    households = Household.objects.bulk_create(
        [
            Household(committee=committee, building=buildings[i % 40], room=str(1000 + i))
            for i in range(size)
        ],
        batch_size=5000,
    )
    now = timezone.now()
    Registration.objects.bulk_create(
        [
            Registration(
                round=rnd,
                committee=committee,
                household=h,
                queue_number=i + 1,
                ticket=f"{ticket}{i:06d}",
                channel=channels[i % 5],
                status="verified",
                name="张三",
                phone=f"{phone}{i:06d}",
                acknowledged_at=now,
            )
            for i, h in enumerate(households)
        ],
        batch_size=5000,
    )


def _delivery_members(pharmacy: Any, every: int) -> None:
    """Every ``every``-th household of the pharmacy gets a member living alone."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO community_member (name, id_hash, lives_alone, mobility_impaired, "
            "elderly, household_id) SELECT '李四', '', TRUE, FALSE, TRUE, h.id "
            "FROM community_household h JOIN community_committee c ON c.id = h.committee_id "
            "WHERE c.pharmacy_id = %s AND h.id %% %s = 0 AND NOT EXISTS "
            "(SELECT 1 FROM community_member m WHERE m.household_id = h.id)",
            [pharmacy.pk, every],
        )


def _timed_runs(rnd: Any, pharmacy: Any, profile: str) -> dict[str, Any]:
    """A dry run, the timed run (optionally under cProfile) and a re-run issuing nothing."""
    from django.utils import timezone

    from fairshare.allocation.models import Voucher
    from fairshare.allocation.services import allocation_run
    from fairshare.core.errors import Conflict

    day = timezone.localdate()
    t1 = time.perf_counter()
    dry = allocation_run(round=rnd, date=day, pharmacy=pharmacy, dry_run=True)
    dry_s = time.perf_counter() - t1
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    c2, t2 = time.process_time(), time.perf_counter()
    result = allocation_run(round=rnd, date=day, pharmacy=pharmacy)
    run_s, run_cpu = time.perf_counter() - t2, time.process_time() - c2
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    t3 = time.perf_counter()
    try:
        again = allocation_run(round=rnd, date=day, pharmacy=pharmacy).issued
    except Conflict:  # everybody was served: nothing waits any more
        again = 0
    rerun_s = time.perf_counter() - t3
    stored = Voucher.objects.filter(round=rnd).count()
    assert stored == result.issued == dry.issued, (stored, result.issued, dry.issued)
    assert again == 0
    return {
        "dry_s": dry_s,
        "run_s": run_s,
        "run_cpu": run_cpu,
        "rerun_s": rerun_s,
        "issued": result.issued,
        "again": again,
    }


def _print_ratios(
    vendor: str,
    times: dict[str, Any],
    raw: float,
    raw_cpu: float,
    floors: dict[str, float] | None,
) -> None:
    run_s, run_cpu = times["run_s"], times["run_cpu"]
    print(
        f"raw INSERT..SELECT={raw:.3f}s  allocation/raw={run_s / raw:.1f}x  "
        + (
            f"process CPU: allocation {run_cpu:.3f}s, raw {raw_cpu:.3f}s "
            f"(ratio {run_cpu / raw_cpu:.1f}x; the database works in this process)"
            if vendor == "sqlite"
            else f"client CPU of allocation_run: {run_cpu:.3f}s (the server's is not counted)"
        )
    )
    if floors:
        v, sms = floors["vouchers"], floors["vouchers+sms"]
        print(
            f"schema floors (same rows, no ranking/slots, codes by SQL; rolled back): "
            f"vouchers {v:.3f}s ({v / raw:.1f}x raw), vouchers+SMS rows {sms:.3f}s "
            f"({sms / raw:.1f}x raw); allocation/floor={run_s / sms:.2f}x"
        )
        if vendor == "sqlite":
            v, sms = floors["vouchers cpu"], floors["vouchers+sms cpu"]
            print(
                f"  same in process CPU: vouchers {v:.3f}s ({v / raw_cpu:.1f}x raw), "
                f"vouchers+SMS {sms:.3f}s ({sms / raw_cpu:.1f}x raw); "
                f"allocation/floor={run_cpu / sms:.2f}x"
            )


def _floors(rnd: Any, pharmacy: Any, day: Any) -> dict[str, float]:
    """Wall and CPU time of plain INSERT … SELECTs of the same waiting rows into the real
    tables, rolled back (``allocation_baselines.schema_floor``): ``vouchers`` into
    ``allocation_voucher`` (all its indexes, unique codes and foreign keys; no ranking),
    ``vouchers+sms`` also one ``core_outboxmessage`` row each. What any allocation writing
    these rows must pay."""
    import allocation_baselines  # bench/ is this script's folder (on sys.path)

    out = {}
    for name, sms in (("vouchers", False), ("vouchers+sms", True)):
        floor = allocation_baselines.schema_floor(round_id=rnd.pk, day=day, sms=sms)
        out[name], out[name + " cpu"] = floor["seconds"], floor["cpu_seconds"]
    return out


if __name__ == "__main__":
    sys.exit(main())
