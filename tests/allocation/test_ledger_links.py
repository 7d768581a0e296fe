"""The allocation events in the public chain (``allocation/chain.py``): one ``allocation``
link per (run, committee) with the run's inputs and the served numbers in issue order,
one ``expired`` link per committee and expiry, a ``carried`` link in the source round;
dry runs write nothing; ``verify_database`` checks the links against the rows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from fairshare.allocation.carryover import round_carry_over
from fairshare.allocation.lottery import commitment_of
from fairshare.allocation.models import AllocationRun, CarryOver, Requeue, Voucher
from fairshare.allocation.services import allocation_run, supply_declare, voucher_expire_due
from fairshare.community.models import Building
from fairshare.registration.models import LedgerEntry, QueueCounter
from fairshare.registration.services import registration_create
from fairshare.registration.verify import verify_database
from fairshare.rounds.models import Round
from tests.factories import HouseholdFactory, MemberFactory, RoundFactory, UserFactory

pytestmark = pytest.mark.django_db

_phone = [0]


def _register(rnd, committee, *, n=1, channel="online", building=None):
    """``n`` roster households registered through the service (verified, with links)."""
    building = building or Building.objects.create(
        committee=committee, label=f"{Building.objects.count() + 1}号"
    )
    staff = None
    if channel != "online":
        staff = UserFactory(role="committee", committee=committee)
    regs = []
    for _ in range(n):
        household = HouseholdFactory(building=building)
        MemberFactory(household=household, name="张三明")
        _phone[0] += 1
        regs.append(
            registration_create(
                round=rnd,
                household=household,
                name="张三明",
                phone=f"1381{_phone[0]:07d}",
                channel=channel,
                actor=staff,
            ).registration
        )
    return regs


def _declare(s, packs, date=None):
    supply_declare(
        pharmacy=s["pharmacy"],
        date=date or s["today"],
        packs=packs,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )


def _links(kind, **filters):
    entries = LedgerEntry.objects.filter(kind=kind, **filters).order_by("round", "committee", "seq")
    return [json.loads(e.payload) for e in entries]


def _ok():
    reports = verify_database()
    assert reports and all(r.ok for r in reports), [
        (r.broken_seq, r.reason) for r in reports if not r.ok
    ]


def _run(s, **kwargs):
    return allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"], **kwargs)


def test_one_allocation_link_per_committee_with_inputs_and_issue_order(pharmacy_setup):
    s = pharmacy_setup
    rnd = s["round"]
    Round.objects.filter(pk=rnd.pk).update(offline_reserve_pct=50)
    rnd.refresh_from_db()
    first, second, _idle = s["committees"]
    _register(rnd, first, n=4)
    _register(rnd, first, n=2, channel="desk")  # queue numbers 5, 6
    _register(rnd, second, n=2)
    _declare(s, 4)
    _run(s)
    run = AllocationRun.objects.get()
    links = _links("allocation")
    assert len(links) == 2  # the idle committee has no one waiting: no link
    by_chain = {
        e.committee_id: json.loads(e.payload) for e in LedgerEntry.objects.filter(kind="allocation")
    }
    link = by_chain[first.pk]
    assert link["run"] == run.pk and link["pharmacy"] == s["pharmacy"].code
    assert link["day"] == s["today"].isoformat() and link["policy"] == "fcfs"
    assert link["reserve_pct"] == 50 and link["seed"] is None and link["buildings"] is None
    assert link["carried_first"] is False
    assert link["quota"] == link["requeued"] + link["reserve"] + link["general"] == 3
    assert (link["requeued"], link["reserve"], link["general"]) == (0, 1, 2)
    # Issue order: the offline reserve (the first desk registration), then the queue.
    served = link["served"]
    assert [item[0] for item in served] == [5, 1, 2]
    vouchers = Voucher.objects.filter(committee=first).order_by("id")
    assert [[v.registration.queue_number, v.fulfilment] for v in vouchers] == [
        item[:2] for item in served
    ]
    assert all(item[2] == v.slot_start.strftime("%H:%M") for item, v in zip(served, vouchers))
    assert [item[0] for item in by_chain[second.pk]["served"]] == [1]
    _ok()


def test_dry_run_appends_nothing(pharmacy_setup):
    s = pharmacy_setup
    _register(s["round"], s["committees"][0], n=3)
    _declare(s, 2)
    counters = list(QueueCounter.objects.values_list("ledger_seq", "head_hash"))
    links = LedgerEntry.objects.count()
    result = _run(s, dry_run=True)
    assert result.issued == 2
    assert LedgerEntry.objects.count() == links and not Voucher.objects.exists()
    assert list(QueueCounter.objects.values_list("ledger_seq", "head_hash")) == counters
    assert not AllocationRun.objects.exists()


def test_per_building_link_names_the_shares_by_building_label(pharmacy_setup):
    s = pharmacy_setup
    rnd = s["round"]
    Round.objects.filter(pk=rnd.pk).update(policy=Round.Policy.PER_BUILDING)
    rnd.refresh_from_db()
    committee = s["committees"][0]
    east = Building.objects.create(committee=committee, label="东1号", sort_order=1)
    west = Building.objects.create(committee=committee, label="西2号", sort_order=2)
    _register(rnd, committee, n=4, building=east)
    _register(rnd, committee, n=2, building=west)
    _declare(s, 4)
    _run(s)
    (link,) = _links("allocation")
    assert link["policy"] == "per_building" and link["buildings"] == {"东1号": 2, "西2号": 2}
    assert sum(link["buildings"].values()) == link["general"] == 4
    assert [item[0] for item in link["served"]] == [1, 2, 5, 6]
    _ok()


def test_lottery_link_carries_the_revealed_seed(pharmacy_setup):
    s = pharmacy_setup
    rnd = s["round"]
    seed = "a" * 64
    Round.objects.filter(pk=rnd.pk).update(
        policy=Round.Policy.LOTTERY, lottery_seed=seed, lottery_commitment=commitment_of(seed)
    )
    rnd.refresh_from_db()
    _register(rnd, s["committees"][0], n=5)
    _declare(s, 3)
    _run(s)
    (link,) = _links("allocation")
    assert link["policy"] == "lottery" and link["seed"] == seed
    served = [item[0] for item in link["served"]]
    issued = Voucher.objects.order_by("id").values_list("registration__queue_number", flat=True)
    assert served == list(issued) and len(served) == 3
    _ok()


def test_a_second_run_of_the_day_is_its_own_link(pharmacy_setup):
    s = pharmacy_setup
    _register(s["round"], s["committees"][0], n=4)
    _declare(s, 1)
    _run(s)
    _declare(s, 3)
    _run(s)
    links = _links("allocation")
    assert [[item[0] for item in link["served"]] for link in links] == [[1], [2, 3]]
    assert links[0]["run"] != links[1]["run"]
    _ok()


def test_expiry_appends_one_link_per_committee_requeued_then_dropped(pharmacy_setup):
    s = pharmacy_setup
    rnd = s["round"]
    first, second, _idle = s["committees"]
    _register(rnd, first, n=2)
    _register(rnd, second, n=1)
    _declare(s, 3)
    _run(s)
    later = s["today"] + timedelta(days=rnd.voucher_valid_days)
    assert voucher_expire_due(today=later) == 3
    by_chain = {
        e.committee_id: json.loads(e.payload) for e in LedgerEntry.objects.filter(kind="expired")
    }
    assert by_chain[first.pk]["entries"] == [[1, "requeued"], [2, "requeued"]]
    assert by_chain[second.pk]["entries"] == [[1, "requeued"]]
    _ok()
    # Served again first (requeued), expired again: dropped.
    tomorrow = s["today"] + timedelta(days=1)
    _declare(s, 3, date=tomorrow)
    allocation_run(round=rnd, date=tomorrow, pharmacy=s["pharmacy"])
    voucher_expire_due(today=later + timedelta(days=1))
    last = _links("expired", committee=first)[-1]
    assert last["entries"] == [[1, "dropped"], [2, "dropped"]]
    assert voucher_expire_due(today=later + timedelta(days=1)) == 0
    assert len(_links("expired")) == 4
    _ok()


def test_carry_over_appends_carried_link_and_carried_from(pharmacy_setup):
    s = pharmacy_setup
    old = s["round"]
    committee = s["committees"][0]
    _register(old, committee, n=4)
    _declare(s, 1)
    _run(s)  # serves #1
    new = RoundFactory(district=old.district, carry_over_from=old)
    assert round_carry_over(round=new) == {"A01": 3}
    (carried,) = _links("carried", round=old)
    assert carried["to_round"] == new.pk and carried["queue_numbers"] == [2, 3, 4]
    registered = _links("registered", round=new)
    assert [link["carried_from"] for link in registered] == [old.pk] * 3
    assert [link["queue_number"] for link in registered] == [1, 2, 3]
    _ok()
    # A registration after the carry-over is not carried.
    _register(new, committee, n=1)
    assert _links("registered", round=new)[-1]["carried_from"] is None
    _ok()


def test_tampered_voucher_breaks_the_allocation_link(pharmacy_setup):
    s = pharmacy_setup
    regs = _register(s["round"], s["committees"][0], n=3)
    _declare(s, 2)
    _run(s)
    _ok()
    # The voucher of #2 rewritten to the waiting #3.
    Voucher.objects.filter(registration=regs[1]).update(
        registration=regs[2], household=regs[2].household
    )
    (report,) = verify_database()
    link = LedgerEntry.objects.get(kind="allocation")
    assert report.broken_seq == link.seq and "served" in report.reason


def test_tampered_requeue_breaks_the_expired_link(pharmacy_setup):
    s = pharmacy_setup
    _register(s["round"], s["committees"][0], n=1)
    _declare(s, 1)
    _run(s)
    voucher_expire_due(today=s["today"] + timedelta(days=s["round"].voucher_valid_days))
    _ok()
    Requeue.objects.update(outcome=Requeue.Outcome.DROPPED)
    (report,) = verify_database()
    assert report.broken_seq == LedgerEntry.objects.get(kind="expired").seq
    assert "expired" in report.reason


def test_removed_carry_over_record_breaks_the_carried_link(pharmacy_setup):
    s = pharmacy_setup
    old = s["round"]
    _register(old, s["committees"][0], n=2)
    new = RoundFactory(district=old.district, carry_over_from=old)
    round_carry_over(round=new)
    _ok()
    CarryOver.objects.all().delete()  # as if the source round had never been fenced
    report = next(r for r in verify_database() if r.round_id == old.pk)
    assert report.broken_seq == LedgerEntry.objects.get(kind="carried").seq
    assert "carry-over" in report.reason
