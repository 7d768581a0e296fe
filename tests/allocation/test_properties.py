"""Property tests of the allocation engine over random queues and supplies (hypothesis).

Each example builds its queues inside a transaction that is rolled back at the end,
so examples do not see each other's rows.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import Count, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fairshare.allocation.lottery import commitment_of
from fairshare.allocation.models import Voucher
from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.allocation.waiting import waiting_registrations
from fairshare.core.errors import Conflict
from fairshare.registration.models import OFFLINE_CHANNELS, Registration
from tests.allocation.factories import Entry, queue_build
from tests.allocation.reference import lottery_rank

pytestmark = pytest.mark.django_db

OFFLINE = {str(c) for c in OFFLINE_CHANNELS}
entries = st.builds(
    Entry,
    channel=st.sampled_from(["online", "online", "desk", "phone", "photo", "sheet"]),
    status=st.sampled_from(["verified", "verified", "pending_review", "void"]),
    building=st.integers(0, 3),
)
queues = st.lists(st.lists(entries, max_size=18), min_size=1, max_size=3)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class _Rollback(Exception):
    pass


def _scenario(setup, queue_lists, *, policy, reserve, pph, supplies, seed=""):
    """Build the queues, run the allocation once per supply value, return registrations."""
    rnd = setup["round"]
    rnd.policy, rnd.offline_reserve_pct, rnd.packs_per_household = policy, reserve, pph
    rnd.lottery_seed, rnd.lottery_commitment = seed, commitment_of(seed) if seed else ""
    rnd.save()
    regs = []
    for committee, entry_list in zip(setup["committees"], queue_lists, strict=False):
        regs += queue_build(round=rnd, committee=committee, entries=entry_list)
    for packs in supplies:
        day = supply_declare(
            pharmacy=setup["pharmacy"],
            date=setup["today"],
            packs=packs,
            manufacturer="厂",
            style="平面",
            unit_price="1.00",
            actor=None,
        ).supply_day
        try:
            allocation_run(round=rnd, date=setup["today"], pharmacy=setup["pharmacy"])
        except Conflict:  # refused only when nobody waits (any more)
            committee_ids = [c.id for c in setup["committees"]]
            assert not waiting_registrations(round=rnd, committee_ids=committee_ids).exists()
    return regs, day


def _common_checks(regs, day, pph):
    live = Voucher.objects.filter(supply_day=day, status__in=["issued", "redeemed"])
    packs = live.aggregate(n=Sum("packs"))["n"] or 0
    assert packs <= day.packs  # never more vouchers than the supply
    assert not (
        Voucher.objects.filter(status__in=["issued", "redeemed"])
        .values("round", "household")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    served = set(live.values_list("registration_id", flat=True))
    # Void ones are never served; pending review ones are held: no voucher before approval.
    assert not served & {r.id for r in regs if r.status != "verified"}
    waiting = [r for r in regs if r.status == "verified"]
    # Everything that could be served was: min(households the supply covers, waiting).
    assert len(served) == min(day.packs // pph, len(waiting))
    return served, waiting


def _groups(regs, served):
    by = defaultdict(lambda: ([], []))
    for r in regs:
        if r.status != "verified":
            continue
        key = (r.committee_id, r.channel in OFFLINE)
        by[key][0 if r.id in served else 1].append(r)
    return by


def _run(setup, body):
    try:
        with transaction.atomic():
            body()
            raise _Rollback
    except _Rollback:
        pass


@SETTINGS
@given(
    queue_lists=queues,
    reserve=st.integers(0, 100),
    pph=st.integers(1, 2),
    supplies=st.lists(st.integers(0, 60), min_size=1, max_size=2).map(sorted),
)
def test_fcfs_properties(pharmacy_setup, queue_lists, reserve, pph, supplies):
    def body():
        regs, day = _scenario(
            pharmacy_setup,
            queue_lists,
            policy="fcfs",
            reserve=reserve,
            pph=pph,
            supplies=supplies,
        )
        served, _ = _common_checks(regs, day, pph)
        for done, waiting in _groups(regs, served).values():
            if done and waiting:
                # Nobody is served while an earlier household of the same group waits.
                assert max(r.queue_number for r in done) < min(r.queue_number for r in waiting)

    _run(pharmacy_setup, body)


@SETTINGS
@given(queue_lists=queues, supply=st.integers(0, 60))
def test_per_building_even(pharmacy_setup, queue_lists, supply):
    def body():
        regs, day = _scenario(
            pharmacy_setup,
            queue_lists,
            policy="per_building",
            reserve=0,
            pph=1,
            supplies=[supply],
        )
        served, _ = _common_checks(regs, day, 1)
        buildings = defaultdict(lambda: ([], []))
        for r in Registration.objects.filter(id__in=[r.id for r in regs]).filter(status="verified"):
            key = (r.committee_id, r.household.building.sort_order)
            buildings[key][0 if r.id in served else 1].append(r)
        for (committee, order), (done, waiting) in buildings.items():
            if done and waiting:  # queue order within a building
                assert max(r.queue_number for r in done) < min(r.queue_number for r in waiting)
            if not waiting:
                continue
            # This building still waits: no building got 2 more than it did, and the
            # extra ones went to buildings earlier in sort order.
            for (other_committee, other_order), (other_done, _w) in buildings.items():
                if other_committee == committee:
                    assert len(other_done) <= len(done) + (1 if other_order < order else 0)

    _run(pharmacy_setup, body)


@SETTINGS
@given(
    queue_lists=queues,
    supply=st.integers(0, 60),
    reserve=st.integers(0, 100),
    seed=st.text("0123456789abcdef", min_size=8, max_size=64),
)
def test_lottery_served_by_rank(pharmacy_setup, queue_lists, supply, reserve, seed):
    def body():
        regs, day = _scenario(
            pharmacy_setup,
            queue_lists,
            policy="lottery",
            reserve=reserve,
            pph=1,
            supplies=[supply],
            seed=seed,
        )
        served, _ = _common_checks(regs, day, 1)
        for done, waiting in _groups(regs, served).values():
            if done and waiting:
                worst = max(lottery_rank(seed, r) for r in done)
                assert worst < min(lottery_rank(seed, r) for r in waiting)

    _run(pharmacy_setup, body)
