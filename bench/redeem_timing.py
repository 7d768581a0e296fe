"""In-process cost of one voucher redemption: SQL statements, Python calls, CPU time.

Usage (from the repository root):

    .venv/bin/python bench/redeem_timing.py [--n 300] [--profile] [--key]

Builds a throwaway SQLite database in a temporary folder (or uses DATABASE_URL if set —
then it must be a scratch database), one pharmacy with ``n`` + 20 issued vouchers and a
pharmacy login with a bearer token, and redeems ``n`` of them one after another through
Django's test client (``POST /api/v1/vouchers/{code}/redeem``), as the terminal does.
Prints the statements of one redemption (and of one 409 answer), the CPU time per
redemption (``time.process_time``, robust on a shared machine) and, with ``--profile``,
the cProfile functions by own time. ``--key`` sends an Idempotency-Key with each sale,
as scan.js does. This is a benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--key", action="store_true", help="send an Idempotency-Key per sale")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="fairshare-redeem-")
    os.environ.setdefault("FAIRSHARE_DATA_DIR", tmp)
    os.environ.setdefault("DATABASE_URL", "")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fairshare.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from tests.factories import UserFactory, VoucherFactory
    from tests.pharmacy.factories import sibling_voucher

    from fairshare.accounts.models import ApiToken

    first = VoucherFactory()
    vouchers = [first] + [sibling_voucher(first) for _ in range(args.n + 19)]
    user = UserFactory(role="pharmacy", pharmacy=first.pharmacy)
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    codes = [v.code for v in vouchers]

    def redeem(code: str, i: int, expect: int = 200) -> None:
        headers = {"HTTP_IDEMPOTENCY_KEY": f"k-{code}-{i}"} if args.key else {}
        r = client.post(
            f"/api/v1/vouchers/{code}/redeem", "{}", content_type="application/json", **headers
        )
        if r.status_code != expect:
            raise SystemExit(f"{code}: {r.status_code} {r.content[:300]!r}")

    for i, code in enumerate(codes[:18]):  # warm-up: imports, caches, token last_used_at
        redeem(code, i)
    for label, code, expect in (("redemption", codes[18], 200), ("409", codes[18], 409)):
        with CaptureQueriesContext(connection) as q:
            redeem(code, 10_000 + expect, expect)
        print(f"statements per {label} ({connection.vendor}): {len(q.captured_queries)}")
        for query in q.captured_queries:
            print(f"    {query['sql'][:150]}")
    todo = codes[19 : 19 + args.n]
    prof = cProfile.Profile() if args.profile else None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    # functools.reduce: a C function that marks the timed loop for ``valgrind
    # --tool=callgrind --collect-atstart=no --toggle-collect=functools_reduce``
    # (instruction counts, repeatable on a busy machine; as bench/profile_path.py).
    functools.reduce(lambda _acc, item: redeem(item[1], item[0]), enumerate(todo), None)
    if prof:
        prof.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(
        f"{len(todo)} redemptions: CPU {1000 * cpu / len(todo):.2f} ms each, "
        f"wall {1000 * wall / len(todo):.2f} ms each"
        + (" (under cProfile)" if prof else "")
        + (", with Idempotency-Key" if args.key else "")
    )
    if prof:
        stats = pstats.Stats(prof)
        print(f"function calls per redemption: {stats.total_calls / len(todo):,.0f}")
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
