"""Who is waiting (``allocation/waiting.py``): one rule, and every reader follows it.

One queue holds every case the rule distinguishes: waiting, void, holding an issued or
a redeemed voucher, expired and requeued (waits again), expired and dropped (waits no
more), cancelled voucher (waits again). The SQL form, the ORM form derived from it, the
engine's "anybody waiting" probe and the benchmark's counts (``bench/dbwork.py``) must all
name exactly the waiting ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from fairshare.allocation.models import Requeue, SupplyDeclaration, Voucher
from fairshare.allocation.tokens import code_new
from fairshare.allocation.waiting import waiting_exists, waiting_registrations, waiting_sql
from tests.allocation.factories import Entry, queue_build, supply_set

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parents[2] / "bench"

# (registration status, voucher status or None, requeue outcome or None, waits?)
CASES = [
    ("verified", None, None, True),
    ("pending_review", None, None, False),  # held for review: keeps its place, no voucher
    ("void", None, None, False),
    ("verified", "issued", None, False),
    ("verified", "redeemed", None, False),
    ("verified", "expired", "requeued", True),
    ("verified", "expired", "dropped", False),
    ("verified", "cancelled", None, True),
]


def _queue(s):
    rnd, committee = s["round"], s["committees"][0]
    day = supply_set(pharmacy=s["pharmacy"], date=s["today"], packs=100)
    declaration = SupplyDeclaration.objects.get(supply_day=day)
    regs = queue_build(round=rnd, committee=committee, entries=[Entry(status=c[0]) for c in CASES])
    for reg, (_status, voucher_status, outcome, _waits) in zip(regs, CASES, strict=True):
        if voucher_status is None:
            continue
        voucher = Voucher.objects.create(
            round=rnd,
            registration=reg,
            household=reg.household,
            committee=committee,
            pharmacy=s["pharmacy"],
            supply_day=day,
            declaration=declaration,
            date=day.date,
            valid_until=day.date,
            code=code_new(),
            packs=1,
            status=voucher_status,
            redeemed_at=timezone.now() if voucher_status == "redeemed" else None,
        )
        if outcome is not None:
            Requeue.objects.create(
                round=rnd,
                household=reg.household,
                registration=reg,
                voucher=voucher,
                outcome=outcome,
            )
    return {reg.id for reg, case in zip(regs, CASES, strict=True) if case[3]}


def test_every_form_of_the_rule_names_the_same_registrations(pharmacy_setup):
    s = pharmacy_setup
    expected = _queue(s)
    rnd, committee_ids = s["round"], [c.id for c in s["committees"]]
    where, params = waiting_sql(round_id=rnd.pk, committee_ids=committee_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r.id FROM registration_registration r WHERE {where}", params)
        by_sql = {row[0] for row in cursor.fetchall()}
    by_orm = set(
        waiting_registrations(round=rnd, committee_ids=committee_ids).values_list("id", flat=True)
    )
    round_wide = set(waiting_registrations(round=rnd).values_list("id", flat=True))
    assert by_sql == by_orm == round_wide == expected
    assert waiting_exists(round_id=rnd.pk, committee_ids=committee_ids)
    assert not waiting_exists(round_id=rnd.pk, committee_ids=[])


def test_the_benchmark_counts_the_same_waiting_households(pharmacy_setup, monkeypatch):
    """``bench/dbwork.py`` reads the product's rule (it once missed dropped requeues)."""
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("dbwork", None)
    import dbwork

    s = pharmacy_setup
    expected = _queue(s)
    assert dbwork.waiting_count(s["round"].pk) == len(expected)
    assert dbwork.waiting_by_pharmacy(s["round"].pk) == {s["pharmacy"].pk: len(expected)}
