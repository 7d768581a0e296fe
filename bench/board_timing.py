"""Measure the server-side render time of a 3,000-household committee's public board.

Usage (from the repository root):

    .venv/bin/python bench/board_timing.py [--households 3000] [--repeat 20]

Builds a throwaway SQLite database in a temporary folder (or uses DATABASE_URL if
set — then it must be a scratch database), loads one committee with N households,
N registrations with ledger links, vouchers for a third of them (half redeemed),
and times GET /public/rounds/<r>/committees/<code>/ and the board JSON endpoint
through Django's test client: "cold" (in-process board cache cleared before each
request) and "warm" (cache hit; ledger head and voucher state unchanged).
This is a benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="fairshare-bench-")
    os.environ.setdefault("FAIRSHARE_DATA_DIR", tmp)
    os.environ.setdefault("DATABASE_URL", "")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fairshare.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    rnd, committee = _load(args.households, transaction)

    from fairshare.transparency.board import board_cache_clear

    client = Client()
    page = f"/public/rounds/{rnd.pk}/committees/{committee.code}/"
    api = f"/api/v1/public/rounds/{rnd.pk}/committees/{committee.code}/board"
    for label, url in (("page", page), ("api", api)):
        client.get(url)  # warm-up (imports, template loading)
        cold, warm = [], []
        for _ in range(args.repeat):
            board_cache_clear()
            t0 = time.perf_counter()
            r = client.get(url)
            cold.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
            t0 = time.perf_counter()
            client.get(url)
            warm.append((time.perf_counter() - t0) * 1000)
        board_cache_clear()
        with CaptureQueriesContext(connection) as q:
            r = client.get(url)
        print(
            f"{label:4} {url}\n"
            f"     cold median {statistics.median(cold):6.1f} ms  max {max(cold):6.1f} ms"
            f"   warm median {statistics.median(warm):6.1f} ms  max {max(warm):6.1f} ms"
            f"   queries (cold) {len(q.captured_queries)}   bytes {len(r.content)}"
        )
    print(f"database: {connection.vendor}, households: {args.households}, repeat: {args.repeat}")


def _load(n: int, transaction):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from fairshare.allocation.models import SupplyDay, SupplyDeclaration, Voucher
    from fairshare.community.models import (
        Building,
        Committee,
        District,
        Household,
        Pharmacy,
        Subdistrict,
    )
    from fairshare.core.masking import mask_name
    from fairshare.registration.ledger import (
        GENESIS,
        canonical,
        link_hash,
        registered_payload,
    )
    from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
    from fairshare.rounds.models import Round

    surnames, given = "王李张刘陈杨赵黄周吴", "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞"
    with transaction.atomic():
        d = District.objects.create(code="BENCH", name="杨浦区")
        s = Subdistrict.objects.create(district=d, code="BKJ", name="控江路街道")
        p = Pharmacy.objects.create(subdistrict=s, code="BP1", name="药房", address="控江路")
        c = Committee.objects.create(subdistrict=s, code="BKJ01", name="图们居委会", pharmacy=p)
        per_building = 60
        buildings = Building.objects.bulk_create(
            [
                Building(committee=c, label=f"{i + 1}号", sort_order=i)
                for i in range(-(-n // per_building))
            ]
        )
        hhs = Household.objects.bulk_create(
            [
                Household(
                    committee=c,
                    building=buildings[i // per_building],
                    room=f"{(i % per_building) // 4 + 1}{i % 4 + 1:02d}",
                )
                for i in range(n)
            ],
            batch_size=2000,
        )
        now = timezone.now()
        rnd = Round.objects.create(
            district=d,
            name="第一轮",
            registration_opens_at=now - timedelta(days=1),
            registration_closes_at=now + timedelta(days=9),
            valid_from=timezone.localdate(),
            valid_until=timezone.localdate() + timedelta(days=10),
            status="open",
        )
        regs, links, prev = [], [], GENESIS
        for i, hh in enumerate(hhs):
            name = surnames[i % 10] + given[i % 19] + given[(i * 7) % 19]
            at = now - timedelta(hours=20) + timedelta(seconds=i * 7)
            regs.append(
                Registration(
                    round=rnd,
                    committee=c,
                    household=hh,
                    queue_number=i + 1,
                    ticket=f"B{i:09d}",
                    channel="online" if i % 3 else "desk",
                    status="verified",
                    name=name,
                    phone=f"139{i:08d}",
                    acknowledged_at=at,
                )
            )
            payload = canonical(
                registered_payload(
                    seq=i + 1,
                    queue_number=i + 1,
                    masked_name=mask_name(name),
                    building=hh.building.label,
                    room=hh.room,
                    channel=regs[-1].channel,
                    at_iso=timezone.localtime(at).isoformat(),
                )
            )
            h = link_hash(prev, payload)
            links.append((i + 1, payload, prev, h))
            prev = h
        regs = Registration.objects.bulk_create(regs, batch_size=2000)
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    round=rnd,
                    committee=c,
                    seq=seq,
                    kind="registered",
                    registration=reg,
                    payload=pl,
                    prev_hash=pv,
                    hash=hh,
                )
                for reg, (seq, pl, pv, hh) in zip(regs, links, strict=True)
            ],
            batch_size=2000,
        )
        QueueCounter.objects.create(
            round=rnd, committee=c, last_number=n, ledger_seq=n, head_hash=prev
        )
        day = SupplyDay.objects.create(pharmacy=p, date=timezone.localdate(), packs=n // 3)
        decl = SupplyDeclaration.objects.create(
            supply_day=day,
            packs=n // 3,
            manufacturer="某厂",
            style="医用",
            unit_price=Decimal("2.00"),
        )
        Voucher.objects.bulk_create(
            [
                Voucher(
                    round=rnd,
                    registration=r,
                    household_id=r.household_id,
                    committee=c,
                    pharmacy=p,
                    supply_day=day,
                    declaration=decl,
                    date=day.date,
                    valid_until=day.date,
                    code=f"BV{i:08d}",
                    status="redeemed" if i % 2 else "issued",
                    redeemed_at=now if i % 2 else None,
                )
                for i, r in enumerate(regs[: n // 3])
            ],
            batch_size=2000,
        )
    return rnd, c


if __name__ == "__main__":
    main()
