from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fairshare.allocation.models import AllocationRun, Requeue, SupplyDeclaration, Voucher
from fairshare.allocation.services import (
    allocation_run,
    supply_declare,
    voucher_expire_due,
    voucher_set_fulfilment,
)
from fairshare.community.models import Member
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.models import AuditLog, OutboxMessage
from fairshare.core.sms import sms_render
from tests.allocation.factories import Entry, queue_build, supply_set

pytestmark = pytest.mark.django_db


def _declare(setup, packs, **kw):
    return supply_declare(
        pharmacy=setup["pharmacy"],
        date=kw.pop("date", setup["today"]),
        packs=packs,
        manufacturer=kw.pop("manufacturer", "厂家"),
        style=kw.pop("style", "平面"),
        unit_price=kw.pop("unit_price", "2.50"),
        actor=None,
        **kw,
    )


def test_supply_correction_supersedes_and_keeps_history(pharmacy_setup):
    first = _declare(pharmacy_setup, 10)
    second = _declare(pharmacy_setup, 25, unit_price=Decimal("3.00"))
    first.refresh_from_db()
    assert first.superseded_by == second
    assert second.supply_day.packs == 25
    assert SupplyDeclaration.objects.filter(supply_day=second.supply_day).count() == 2
    assert AuditLog.objects.filter(action="supply.correct").count() == 1


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("packs", {"packs": -1}),
        ("packs", {"packs": 100001}),
        ("packs", {"packs": 2.5}),
        ("unit_price", {"unit_price": "-1"}),
        ("unit_price", {"unit_price": "1.234"}),
        ("manufacturer", {"manufacturer": "  "}),
        ("style", {"style": ""}),
        ("date", {"date": "yesterday"}),
    ],
)
def test_supply_bad_input_writes_nothing(pharmacy_setup, field, kwargs):
    packs = kwargs.pop("packs", 5)
    if kwargs.get("date") == "yesterday":
        kwargs["date"] = pharmacy_setup["today"] - timedelta(days=1)
    with pytest.raises(FieldErrors) as info:
        _declare(pharmacy_setup, packs, **kwargs)
    assert field in info.value.errors
    assert not SupplyDeclaration.objects.exists()


def test_supply_date_outside_round(pharmacy_setup):
    rnd = pharmacy_setup["round"]
    with pytest.raises(FieldErrors) as info:
        _declare(pharmacy_setup, 5, date=rnd.valid_until + timedelta(days=1), round=rnd)
    assert "date" in info.value.errors


def test_split_by_waiting_and_fcfs_order(pharmacy_setup):
    s = pharmacy_setup
    a, b, c = s["committees"]
    queue_build(round=s["round"], committee=a, entries=[Entry()] * 6)
    queue_build(round=s["round"], committee=b, entries=[Entry()] * 3)
    queue_build(round=s["round"], committee=c, entries=[Entry()] * 1)
    _declare(s, 5)
    result = allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    counts = {row["committee"]: row["issued"] for row in result.by_committee}
    # 5 * 6/10 = 3.0, 5 * 3/10 = 1.5, 5 * 1/10 = 0.5: remainders tie, A02 before A03.
    assert counts == {"A01": 3, "A02": 2, "A03": 0}
    numbers = sorted(
        Voucher.objects.filter(committee=a).values_list("registration__queue_number", flat=True)
    )
    assert numbers == [1, 2, 3]
    assert AllocationRun.objects.get().issued == 5
    assert OutboxMessage.objects.filter(kind="sms").count() == 5
    text = sms_render(OutboxMessage.objects.filter(kind="sms").first().payload)
    assert s["pharmacy"].name in text and "2.50" in text and "平面" in text


def test_rerun_issues_only_the_remainder(pharmacy_setup):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 10)
    _declare(s, 4)
    assert allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"]).issued == 4
    assert allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"]).issued == 0
    _declare(s, 7)  # correction upwards: 3 more
    assert allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"]).issued == 3
    assert Voucher.objects.count() == 7
    with pytest.raises(FieldErrors):
        _declare(s, 6)  # below what is already issued


def test_dry_run_writes_nothing(pharmacy_setup):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 3)
    _declare(s, 2)
    result = allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"], dry_run=True)
    assert result.issued == 2
    assert not Voucher.objects.exists() and not AllocationRun.objects.exists()


def test_offline_reserve_and_unused_reserve(pharmacy_setup):
    s = pharmacy_setup
    s["round"].offline_reserve_pct = 50
    s["round"].save()
    entries = [Entry()] * 6 + [Entry(channel="desk"), Entry(channel="phone")]
    queue_build(round=s["round"], committee=s["committees"][0], entries=entries)
    _declare(s, 4)
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    served = sorted(Voucher.objects.values_list("registration__queue_number", flat=True))
    assert served == [1, 2, 7, 8]  # reserve 2 for the offline, 2 in queue order


def test_reserve_without_offline_goes_to_general_queue(pharmacy_setup):
    s = pharmacy_setup
    s["round"].offline_reserve_pct = 50
    s["round"].save()
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 6)
    _declare(s, 4)
    assert allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"]).issued == 4


def test_void_never_served_and_pending_is_held(pharmacy_setup):
    """Void is never served; pending review keeps its place but gets no voucher (the
    review gate; tests/allocation/test_review_gate.py has the whole story)."""
    s = pharmacy_setup
    entries = [Entry(status="void"), Entry(status="pending_review"), Entry()]
    queue_build(round=s["round"], committee=s["committees"][0], entries=entries)
    _declare(s, 10)
    result = allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    assert sorted(Voucher.objects.values_list("registration__queue_number", flat=True)) == [3]
    assert result.held_for_review == 1


def _clock(monkeypatch, day, at: time) -> None:
    """Pretend the local time is ``at`` on ``day`` for the slot planner."""
    from fairshare.allocation import engine

    moment = timezone.make_aware(datetime.combine(day, at))
    monkeypatch.setattr(engine, "_local_now", lambda: moment)


def test_slots_fill_in_order_and_delivery_takes_none(pharmacy_setup, monkeypatch):
    s = pharmacy_setup
    _clock(monkeypatch, s["today"], time(7, 0))
    ph = s["pharmacy"]
    ph.opens_at, ph.closes_at, ph.slot_minutes, ph.customers_per_slot = (
        time(9, 0),
        time(10, 0),
        30,
        2,
    )
    ph.save()
    regs = queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 6)
    Member.objects.create(household=regs[0].household, name="李四", lives_alone=True)
    _declare(s, 6)
    allocation_run(round=s["round"], date=s["today"], pharmacy=ph)
    by_number = {
        v.registration.queue_number: v for v in Voucher.objects.select_related("registration")
    }
    assert by_number[1].fulfilment == "delivery" and by_number[1].slot_start is None
    assert [by_number[n].slot_start for n in (2, 3, 4, 5)] == [
        time(9, 0),
        time(9, 0),
        time(9, 30),
        time(9, 30),
    ]
    assert by_number[6].slot_start is None  # the day is full: no slot
    assert by_number[2].valid_until == s["today"]


def test_todays_slots_that_end_too_soon_are_skipped(pharmacy_setup, monkeypatch):
    s = pharmacy_setup
    ph = s["pharmacy"]
    ph.opens_at, ph.closes_at, ph.slot_minutes, ph.customers_per_slot = (
        time(9, 0),
        time(11, 0),
        30,
        5,
    )
    ph.save()
    # At 09:10 the 09:00-09:30 slot ends before residents can be told and get there
    # (30 minutes' lead); 09:30-10:00 is the first slot handed out.
    _clock(monkeypatch, s["today"], time(9, 10))
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 2)
    _declare(s, 2)
    allocation_run(round=s["round"], date=s["today"], pharmacy=ph)
    assert set(Voucher.objects.values_list("slot_start", flat=True)) == {time(9, 30)}


def test_errors_change_nothing(pharmacy_setup):
    s = pharmacy_setup
    _declare(s, 3)
    with pytest.raises(Conflict):  # nobody waiting
        allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 3)
    with pytest.raises(FieldErrors):
        allocation_run(round=s["round"], date=s["round"].valid_until + timedelta(days=1))
    s["round"].policy = "lottery"
    s["round"].save()
    with pytest.raises(Conflict):  # seed not revealed
        allocation_run(round=s["round"], date=s["today"])
    assert not Voucher.objects.exists()


def test_expiry_requeues_once_then_drops(pharmacy_setup):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 3)
    _declare(s, 1)
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    first = Voucher.objects.get()
    assert voucher_expire_due(today=s["today"] + timedelta(days=1)) == 1
    first.refresh_from_db()
    assert first.status == "expired"
    assert Requeue.objects.get().outcome == "requeued"
    day2 = s["today"] + timedelta(days=1)
    supply_set(pharmacy=s["pharmacy"], date=day2, packs=1)
    allocation_run(round=s["round"], date=day2, pharmacy=s["pharmacy"])
    again = Voucher.objects.get(status="issued")
    assert again.household_id == first.household_id  # head of the queue
    assert voucher_expire_due(today=day2 + timedelta(days=1)) == 1
    assert Requeue.objects.filter(outcome="dropped").count() == 1
    day3 = day2 + timedelta(days=1)
    supply_set(pharmacy=s["pharmacy"], date=day3, packs=1)
    allocation_run(round=s["round"], date=day3, pharmacy=s["pharmacy"])
    third = Voucher.objects.get(status="issued")
    assert third.household_id != first.household_id
    assert third.registration.queue_number == 2


def test_set_fulfilment(pharmacy_setup):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()])
    _declare(s, 1)
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    voucher = Voucher.objects.get()
    voucher_set_fulfilment(voucher=voucher, fulfilment="proxy", actor=None)
    voucher.refresh_from_db()
    assert voucher.fulfilment == "proxy"
    with pytest.raises(FieldErrors):
        voucher_set_fulfilment(voucher=voucher, fulfilment="drone", actor=None)


def test_no_supply_declared_is_refused(pharmacy_setup):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 2)
    with pytest.raises(Conflict):
        allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    with pytest.raises(Conflict):
        allocation_run(round=s["round"], date=s["today"])
    assert not Voucher.objects.exists()


def test_expire_command(pharmacy_setup, capsys):
    from django.core.management import call_command

    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 2)
    _declare(s, 2)
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    call_command("expire_vouchers", "--today", s["today"].isoformat())
    assert "expired 0" in capsys.readouterr().out  # still valid today
    call_command("expire_vouchers", "--today", (s["today"] + timedelta(days=1)).isoformat())
    assert "expired 2" in capsys.readouterr().out
    assert Voucher.objects.filter(status="expired").count() == 2


def test_code_collision_is_retried(pharmacy_setup, monkeypatch):
    from fairshare.allocation import issue
    from fairshare.allocation.tokens import codes_new_packed

    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 4)
    _declare(s, 1)
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    existing = Voucher.objects.get().code
    calls = iter([existing])  # the next run's first code collides with a stored one
    drawn = []

    def colliding_codes(count: int) -> bytes:
        first = next(calls, None)
        codes = first.encode() + codes_new_packed(count - 1) if first else codes_new_packed(count)
        drawn.append(codes)
        return codes

    monkeypatch.setattr(issue, "codes_new_packed", colliding_codes)
    _declare(s, 4)
    assert allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"]).issued == 3
    codes = list(Voucher.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 4
    assert len(drawn) == 2  # the colliding batch was refused and a fresh one drawn
