"""Never more vouchers than the supply, under real concurrency (PostgreSQL).

Two allocation runs at once for one pharmacy-day. The runs overlap by wrapping the
engine's read step (``engine._plan_read``): the protected runs hold the SupplyDay lock a
while after reading, so the other run really has to wait on it; the negative control
runs the same product code with its guard switched off (``lock_rows`` replaced by the
identity, see ``core/locking.py``) and both runs wait for each other after reading, so
they read the same availability and together issue more than the supply.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.db.models import Sum

from fairshare.allocation import engine
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


def _after_read(monkeypatch, then):
    """Make ``engine._plan_read`` call ``then()`` after it has read (the lock, if any, held)."""
    read = engine._plan_read

    def read_then_wait(**kwargs):
        plan = read(**kwargs)
        then()
        return plan

    monkeypatch.setattr(engine, "_plan_read", read_then_wait)


def _hold_lock():
    time.sleep(0.3)  # keep the lock a while so the other run really has to wait


def test_two_runs_same_round_never_exceed_supply(pharmacy_setup, monkeypatch):
    s = pharmacy_setup
    _setup(s, [s["round"]], waiting=25, supply=30)
    _after_read(monkeypatch, _hold_lock)
    run = lambda: allocation_run(  # noqa: E731
        round=s["round"], date=s["today"], pharmacy=s["pharmacy"]
    )
    results = _at_once(run, run)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.issued for r in results) == [0, 30]
    assert _issued_packs(s) == 30


def _two_rounds_one_supply(s):
    """Two rounds of 20 waiting households each share one pharmacy-day of 30 packs."""
    other = RoundFactory(district=s["round"].district)
    _setup(s, [s["round"], other], waiting=10, supply=30)
    return [
        lambda rnd=rnd: allocation_run(round=rnd, date=s["today"], pharmacy=s["pharmacy"])
        for rnd in (s["round"], other)
    ]


def test_two_rounds_share_one_supply_second_gets_the_remainder(pharmacy_setup, monkeypatch):
    s = pharmacy_setup
    calls = _two_rounds_one_supply(s)
    _after_read(monkeypatch, _hold_lock)
    results = _at_once(*calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.issued for r in results) == [10, 20]  # first 20, then the remaining 10
    assert _issued_packs(s) == 30


def test_race_is_real_without_the_lock(pharmacy_setup, monkeypatch):
    """Negative control: the same runs with the SupplyDay lock switched off over-issue."""
    s = pharmacy_setup
    calls = _two_rounds_one_supply(s)
    monkeypatch.setattr(engine, "lock_rows", lambda queryset: queryset)
    both_read = threading.Barrier(2)
    _after_read(monkeypatch, lambda: both_read.wait(timeout=10))
    results = _at_once(*calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert [r.issued for r in results] == [20, 20]
    assert _issued_packs(s) == 40 > 30  # over-issued: this is what the lock prevents


# --- a shortfall racing an allocation run on the same day --------------------------------


def _shortfall_race(s, monkeypatch, *, guarded: bool):
    """30 wait; 20 packs confirmed, 10 issued. At once: an allocation run (would issue
    the other 10) and a shortfall to 12. Both read while the other could still write."""
    from fairshare.allocation import shortfall, supplyday

    for committee in s["committees"][:1]:
        queue_build(round=s["round"], committee=committee, entries=[Entry()] * 30)
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=10,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=20,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )
    read = shortfall._plan
    if guarded:
        _after_read(monkeypatch, _hold_lock)
        hold = _hold_lock
    else:
        for module in (engine, shortfall, supplyday):
            monkeypatch.setattr(module, "lock_rows", lambda queryset, **kw: queryset)
        both_read = threading.Barrier(2)
        _after_read(monkeypatch, lambda: both_read.wait(timeout=10))

        def hold():
            both_read.wait(timeout=10)

    def plan_then_wait(day, packs):
        plan = read(day, packs)
        hold()
        return plan

    monkeypatch.setattr(shortfall, "_plan", plan_then_wait)
    results = _at_once(
        lambda: allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"]),
        lambda: shortfall.supply_shortfall(
            pharmacy=s["pharmacy"], date=s["today"], packs=12, actor=None
        ),
    )
    live = (
        Voucher.objects.filter(
            pharmacy=s["pharmacy"], date=s["today"], status__in=Voucher.LIVE_STATUSES
        ).aggregate(n=Sum("packs"))["n"]
        or 0
    )
    return results, live


def test_shortfall_racing_an_allocation_never_leaves_live_packs_above_supply(
    pharmacy_setup, monkeypatch
):
    s = pharmacy_setup
    results, live = _shortfall_race(s, monkeypatch, guarded=True)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert live <= 12


def test_shortfall_race_is_real_without_the_lock(pharmacy_setup, monkeypatch):
    """Negative control: with the SupplyDay lock switched off, the run issues against the
    old figure while the shortfall cancels against the old vouchers: live > supply."""
    s = pharmacy_setup
    results, live = _shortfall_race(s, monkeypatch, guarded=False)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert live > 12
