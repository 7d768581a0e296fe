"""Invariant 3 under real concurrency (PostgreSQL): two allocation runs at once.

Next to the tests that show the SupplyDay lock prevents over-issuing is one that
switches the lock off (the engine's private ``_lock=False``) and shows the race is
real: both runs read the same availability and together issue more than the supply.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.db.models import Sum

from fairshare.allocation.models import Voucher
from fairshare.allocation.services import allocation_run, supply_declare
from tests.allocation.factories import Entry, queue_build
from tests.factories import RoundFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _at_once(*calls):
    """Run the calls in threads released together; return their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _setup(s, rounds, waiting, supply):
    for rnd in rounds:
        for committee in s["committees"][:2]:
            queue_build(round=rnd, committee=committee, entries=[Entry()] * waiting)
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=supply,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )


def _issued_packs(s) -> int:
    return (
        Voucher.objects.filter(pharmacy=s["pharmacy"], date=s["today"]).aggregate(n=Sum("packs"))[
            "n"
        ]
        or 0
    )


def _hold_lock():
    time.sleep(0.3)  # keep the lock a while so the other run really has to wait


def test_two_runs_same_round_never_exceed_supply(pharmacy_setup):
    s = pharmacy_setup
    _setup(s, [s["round"]], waiting=25, supply=30)
    run = lambda: allocation_run(  # noqa: E731
        round=s["round"], date=s["today"], pharmacy=s["pharmacy"], _after_read=_hold_lock
    )
    results = _at_once(run, run)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.issued for r in results) == [0, 30]
    assert _issued_packs(s) == 30


def test_two_rounds_share_one_supply_second_gets_the_remainder(pharmacy_setup):
    s = pharmacy_setup
    other = RoundFactory(district=s["round"].district)
    _setup(s, [s["round"], other], waiting=10, supply=30)  # 20 waiting per round
    calls = [
        lambda rnd=rnd: allocation_run(
            round=rnd, date=s["today"], pharmacy=s["pharmacy"], _after_read=_hold_lock
        )
        for rnd in (s["round"], other)
    ]
    results = _at_once(*calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.issued for r in results) == [10, 20]  # first 20, then the remaining 10
    assert _issued_packs(s) == 30


def test_race_is_real_without_the_lock(pharmacy_setup):
    s = pharmacy_setup
    other = RoundFactory(district=s["round"].district)
    _setup(s, [s["round"], other], waiting=10, supply=30)
    both_read = threading.Barrier(2)
    calls = [
        lambda rnd=rnd: allocation_run(
            round=rnd,
            date=s["today"],
            pharmacy=s["pharmacy"],
            _lock=False,
            _after_read=lambda: both_read.wait(timeout=10),
        )
        for rnd in (s["round"], other)
    ]
    results = _at_once(*calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert [r.issued for r in results] == [20, 20]
    assert _issued_packs(s) == 40 > 30  # over-issued: this is what the lock prevents
