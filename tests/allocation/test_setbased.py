"""The set-based engine issues exactly what the previous Python planner issued.

Random queues over up to three committees (channels, void and pending registrations,
buildings), households already served (holding pickup slots of the day), requeued
households (in random requeue order, with ties in time) and dropped ones, delivery
households, every policy, any offline reserve, packs per household, limited pickup
slots. The expected picks come from ``reference.expected_picks`` (the old engine's
arithmetic on rows read into Python), computed from the same database state just
before the run; the vouchers of the run must match in issue order, with the same
fulfilment and pickup slot, valid codes and the SMS payload of ``voucher_sms_payload``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fairshare.allocation.lottery import commitment_of
from fairshare.allocation.models import Requeue, SupplyDeclaration, Voucher
from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.allocation.tokens import code_new, code_normalize
from fairshare.community.models import Member
from fairshare.core.errors import Conflict
from fairshare.core.models import OutboxMessage
from tests.allocation.factories import Entry, queue_build, supply_set
from tests.allocation.reference import expected_picks, voucher_sms_payload

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Extra:
    """What else is true of a registration's household before the run."""

    state: str = "waiting"  # waiting | served (live voucher of the day) | requeued | dropped
    slot: int = 0  # served: which slot its voucher holds (-1: none)
    requeued_minute: int = 0  # requeued: when its voucher expired (ties on purpose)
    delivery: bool = False  # a member lives alone or is mobility impaired


entries = st.tuples(
    st.builds(
        Entry,
        channel=st.sampled_from(["online", "online", "desk", "phone", "photo", "sheet"]),
        status=st.sampled_from(["verified", "verified", "verified", "pending_review", "void"]),
        building=st.integers(0, 3),
    ),
    st.builds(
        Extra,
        state=st.sampled_from(["waiting"] * 6 + ["served", "requeued", "dropped"]),
        slot=st.integers(-1, 3),
        requeued_minute=st.integers(0, 3),
        delivery=st.sampled_from([False, False, False, True]),
    ),
)
queues = st.lists(st.lists(entries, max_size=16), min_size=1, max_size=3)


class _Rollback(Exception):
    pass


def _prepare(setup, queue_lists, *, policy, reserve, pph, seed, slots, per_slot):
    rnd = setup["round"]
    rnd.policy, rnd.offline_reserve_pct, rnd.packs_per_household = policy, reserve, pph
    rnd.lottery_seed, rnd.lottery_commitment = seed, commitment_of(seed)
    rnd.save()
    pharmacy = setup["pharmacy"]
    # ``slots`` slots of 10 minutes from 09:00, the last one cut short by the closing time.
    pharmacy.opens_at, pharmacy.closes_at = time(9, 0), time(9, 10 * slots - 1)
    pharmacy.slot_minutes, pharmacy.customers_per_slot = 10, per_slot
    pharmacy.save()
    today = setup["today"]
    day = supply_set(pharmacy=pharmacy, date=today, packs=0)
    yesterday = supply_set(pharmacy=pharmacy, date=today - timedelta(days=1), packs=500)
    old_declaration = SupplyDeclaration.objects.get(supply_day=yesterday)
    declaration = SupplyDeclaration.objects.get(supply_day=day)
    now = timezone.now()
    served_packs = 0
    for committee, pairs in zip(setup["committees"], queue_lists, strict=False):
        regs = queue_build(round=rnd, committee=committee, entries=[e for e, _ in pairs])
        for reg, (_entry, extra) in zip(regs, pairs, strict=True):
            if extra.delivery:
                Member.objects.create(household=reg.household, name="李", lives_alone=True)
            if extra.state == "waiting" or reg.status == "void":
                continue
            if extra.state == "served":
                start = None if extra.slot < 0 else time(9, 10 * extra.slot)
                _voucher(reg, declaration, status="issued", slot_start=start, packs=pph)
                served_packs += pph
                continue
            voucher = _voucher(reg, old_declaration, status="expired", slot_start=None, packs=1)
            Requeue.objects.create(
                round=rnd,
                household=reg.household,
                registration=reg,
                voucher=voucher,
                outcome="requeued" if extra.state == "requeued" else "dropped",
                created_at=now - timedelta(minutes=extra.requeued_minute),
            )
    return day, served_packs


def _voucher(reg, declaration, *, status, slot_start, packs):
    return Voucher.objects.create(
        round=reg.round,
        registration=reg,
        household=reg.household,
        committee=reg.committee,
        pharmacy=declaration.supply_day.pharmacy,
        supply_day=declaration.supply_day,
        declaration=declaration,
        date=declaration.supply_day.date,
        valid_until=declaration.supply_day.date,
        slot_start=slot_start,
        slot_end=None,
        code=code_new(),
        packs=packs,
        status=status,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    queue_lists=queues,
    policy=st.sampled_from(["fcfs", "per_building", "lottery"]),
    reserve=st.sampled_from([0, 0, 10, 34, 50, 100]),
    pph=st.integers(1, 2),
    supply=st.integers(0, 60),
    slots=st.integers(1, 4),
    per_slot=st.integers(1, 3),
    seed=st.text("0123456789abcdef", min_size=8, max_size=16),
)
def test_set_based_engine_matches_the_reference_planner(
    pharmacy_setup, queue_lists, policy, reserve, pph, supply, slots, per_slot, seed
):
    s = pharmacy_setup

    def body():
        day, served_packs = _prepare(
            s,
            queue_lists,
            policy=policy,
            reserve=reserve,
            pph=pph,
            seed=seed,
            slots=slots,
            per_slot=per_slot,
        )
        supply_declare(
            pharmacy=s["pharmacy"],
            date=s["today"],
            packs=served_packs + supply,
            manufacturer="厂",
            style="平面",
            unit_price="1.50",
            actor=None,
        )
        expected = expected_picks(round=s["round"], pharmacy=s["pharmacy"], date=s["today"])
        before = Voucher.objects.order_by("-id").values_list("id", flat=True).first() or 0
        try:
            result = allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
        except Conflict:
            assert expected == []
            return
        new = list(Voucher.objects.filter(id__gt=before).order_by("id"))
        got = [(v.registration_id, v.fulfilment, v.slot_start, v.slot_end) for v in new]
        assert got == expected
        assert result.issued == len(new)
        assert [v.code for v in result.vouchers] == [v.code for v in new]
        assert all(code_normalize(v.code) == v.code for v in new)
        declaration = SupplyDeclaration.objects.get(supply_day=day, superseded_by__isnull=True)
        texts = list(
            OutboxMessage.objects.filter(kind="sms", household_id__in=[v.household_id for v in new])
            .order_by("id")
            .values_list("payload", flat=True)
        )
        assert texts == [
            voucher_sms_payload(v, pharmacy=s["pharmacy"], declaration=declaration) for v in new
        ]
        assert [t["phone"] for t in texts] == [v.registration.phone for v in new]

    try:
        with transaction.atomic():
            body()
            raise _Rollback
    except _Rollback:
        pass
