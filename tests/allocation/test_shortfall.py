"""Supply shortfall (issue 18): a confirmed day lowered below what was issued.

Through the service, the API and the page: exactly the latest-issued unbought vouchers
are cancelled (never a bought one, never leaving live packs above the supply); their
households are served first at the next allocation, and a later expiry of the new
voucher still requeues them once; a figure below the packs bought is refused and
changes nothing; one SMS per household with a mobile, the others on the committee's
notify-by-hand list; one ledger link per committee with the queue numbers.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from fairshare.allocation.by_hand import hand_list
from fairshare.allocation.models import Requeue, SupplyDay, SupplyDeclaration, Voucher
from fairshare.allocation.services import (
    allocation_run,
    supply_declare,
    voucher_expire_due,
)
from fairshare.allocation.shortfall import shortfall_preview, supply_shortfall
from fairshare.core.errors import FieldErrors
from fairshare.core.models import AuditLog, OutboxMessage
from fairshare.pharmacy.models import Channel
from fairshare.pharmacy.services import redemption_apply
from fairshare.registration import ledger
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
from tests.allocation.factories import Entry, queue_build
from tests.factories import PharmacyFactory, UserFactory
from tests.pharmacy.conftest import bearer_for


def _declare(s, packs, date=None):
    return supply_declare(
        pharmacy=s["pharmacy"],
        date=date or s["today"],
        packs=packs,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )


def _live_packs(s, date=None) -> int:
    return (
        Voucher.objects.filter(
            pharmacy=s["pharmacy"], date=date or s["today"], status__in=Voucher.LIVE_STATUSES
        ).aggregate(n=Sum("packs"))["n"]
        or 0
    )


def _issued(s, n_a=6, n_b=4, supply=10, waiting_extra=3):
    """A01 and A02 wait; ``supply`` vouchers are issued today (issue order = id order)."""
    a, b = s["committees"][:2]
    queue_build(round=s["round"], committee=a, entries=[Entry()] * (n_a + waiting_extra))
    queue_build(round=s["round"], committee=b, entries=[Entry()] * (n_b + waiting_extra))
    _declare(s, supply)
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    return list(Voucher.objects.order_by("issued_at", "id"))


def _redeem(voucher):
    redemption_apply(
        voucher=voucher,
        pharmacy=voucher.pharmacy,
        actor=None,
        at=timezone.now(),
        channel=Channel.ONLINE,
    )


def test_cancels_exactly_the_latest_issued_unbought_never_a_bought_one(pharmacy_setup):
    s = pharmacy_setup
    vouchers = _issued(s)
    assert len(vouchers) == 10
    _redeem(vouchers[-1])  # the latest-issued was bought: it stays
    _redeem(vouchers[0])
    before = {v.pk: v.status for v in Voucher.objects.all()}
    result = supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=6, actor=None)
    cancelled = set(Voucher.objects.filter(status="cancelled").values_list("pk", flat=True))
    # the 4 latest-issued that were not bought: vouchers[5..8]
    assert cancelled == {v.pk for v in vouchers[5:9]}
    assert result.cancelled == 4
    assert Voucher.objects.get(pk=vouchers[-1].pk).status == "redeemed"
    assert Voucher.objects.get(pk=vouchers[0].pk).status == "redeemed"
    unchanged = {pk for pk in before if pk not in cancelled}
    assert all(Voucher.objects.get(pk=pk).status == before[pk] for pk in unchanged)
    assert _live_packs(s) == 6 == SupplyDay.objects.get().packs
    current = SupplyDeclaration.objects.get(superseded_by__isnull=True)
    assert (current.packs, current.manufacturer, current.style) == (6, "厂", "平面")
    # each back at the head of the queue, for the shortfall's reason
    assert list(Requeue.objects.order_by("id").values_list("voucher_id", "outcome", "reason")) == [
        (v.pk, "requeued", "shortfall") for v in vouchers[5:9]
    ]
    audit = AuditLog.objects.get(action="supply.shortfall")
    assert audit.after["cancelled"] == 4


def test_cancels_no_more_than_needed_with_several_packs_per_voucher(pharmacy_setup):
    s = pharmacy_setup
    s["round"].packs_per_household = 3
    s["round"].save()
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 5)
    _declare(s, 12)
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])  # 4 × 3
    supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=7, actor=None)
    assert Voucher.objects.filter(status="cancelled").count() == 2  # 12 → 6 ≤ 7
    assert _live_packs(s) == 6 <= 7


def test_households_are_served_first_at_the_next_allocation(pharmacy_setup):
    """At the head of their committee's queue (the engine's requeued class is per
    committee, after the split across committees)."""
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 16)
    _declare(s, 10)
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=7, actor=None)
    cancelled = list(Voucher.objects.filter(status="cancelled").order_by("issued_at", "id"))
    assert len(cancelled) == 3
    tomorrow = s["today"] + timedelta(days=1)
    _declare(s, 3, date=tomorrow)
    allocation_run(round=s["round"], date=tomorrow, pharmacy=s["pharmacy"])
    served = set(Voucher.objects.filter(date=tomorrow).values_list("household_id", flat=True))
    # queue numbers 8-10 were cancelled; 11-16 wait, yet the cancelled go first
    assert served == {v.household_id for v in cancelled}


def test_a_later_expiry_of_the_new_voucher_still_requeues_once(pharmacy_setup):
    """Shortfall → served first → expiry: requeued (the shortfall did not use up the
    once) → served first again → second expiry: dropped."""
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 3)
    _declare(s, 1)
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=0, actor=None)
    household = Voucher.objects.get(status="cancelled").household_id
    for offset in (1, 2):
        day = s["today"] + timedelta(days=offset)
        _declare(s, 1, date=day)
        allocation_run(round=s["round"], date=day, pharmacy=s["pharmacy"])
        assert Voucher.objects.get(date=day).household_id == household
        assert voucher_expire_due(today=day + timedelta(days=1)) == 1
    outcomes = list(
        Requeue.objects.filter(household_id=household)
        .order_by("id")
        .values_list("reason", "outcome")
    )
    assert outcomes == [("shortfall", "requeued"), ("expiry", "requeued"), ("expiry", "dropped")]


def test_below_the_packs_bought_is_refused_and_changes_nothing(pharmacy_setup):
    s = pharmacy_setup
    vouchers = _issued(s)
    for v in vouchers[:4]:
        _redeem(v)
    state = list(Voucher.objects.order_by("id").values_list("status", flat=True))
    outbox = OutboxMessage.objects.count()
    with pytest.raises(FieldErrors) as refused:
        supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=3, actor=None)
    assert "packs" in refused.value.errors
    assert list(Voucher.objects.order_by("id").values_list("status", flat=True)) == state
    assert SupplyDay.objects.get().packs == 10
    assert SupplyDeclaration.objects.count() == 1
    assert not Requeue.objects.exists()
    assert OutboxMessage.objects.count() == outbox
    assert not LedgerEntry.objects.filter(kind="shortfall").exists()
    # exactly the bought packs is allowed: every unbought voucher goes
    supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=4, actor=None)
    assert _live_packs(s) == 4


def test_one_sms_per_cancelled_household_with_a_mobile_the_others_by_hand(pharmacy_setup):
    s = pharmacy_setup
    vouchers = _issued(s)
    landline, blank = vouchers[-1].registration, vouchers[-2].registration
    Registration.objects.filter(pk=landline.pk).update(phone="021-65431234")
    Registration.objects.filter(pk=blank.pk).update(phone="")
    sms_before = set(OutboxMessage.objects.values_list("pk", flat=True))
    result = supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=6, actor=None)
    assert (result.cancelled, result.sms, result.without_mobile) == (4, 2, 2)
    sent = OutboxMessage.objects.exclude(pk__in=sms_before)
    assert sent.count() == 2
    cancelled = Voucher.objects.filter(status="cancelled").select_related("registration")
    with_mobile = {v.household_id for v in cancelled} - {landline.household_id, blank.household_id}
    assert {m.household_id for m in sent} == with_mobile
    for message in sent:
        assert message.payload["kind"] == "shortfall"
        assert message.payload["phone"].startswith("139")
    # the two without a mobile are on their committee's list
    items = [
        item
        for committee in s["committees"][:2]
        for item in hand_list(committee=committee, round=s["round"])
        if item.kind == "shortfall"
    ]
    assert sorted(i.queue_number for i in items) == sorted(
        [landline.queue_number, blank.queue_number]
    )


def test_one_ledger_link_per_committee_with_the_numbers_in_issue_order(pharmacy_setup):
    s = pharmacy_setup
    _issued(s)
    seqs = dict(QueueCounter.objects.values_list("committee_id", "ledger_seq"))
    supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=4, actor=None)
    links = LedgerEntry.objects.filter(kind="shortfall").order_by("committee_id")
    cancelled = Voucher.objects.filter(status="cancelled").order_by("issued_at", "id")
    by_committee: dict[int, list[int]] = {}
    for v in cancelled.select_related("registration"):
        by_committee.setdefault(v.committee_id, []).append(v.registration.queue_number)
    assert [link.committee_id for link in links] == sorted(by_committee)
    for link in links:
        body = json.loads(link.payload)
        assert body["cancelled"] == by_committee[link.committee_id]
        assert (body["packs"], body["pharmacy"], body["day"]) == (
            4,
            s["pharmacy"].code,
            s["today"].isoformat(),
        )
        assert body["seq"] == seqs.get(link.committee_id, 0) + 1
        assert link.registration_id is None
    # the chains still verify
    for committee_id in by_committee:
        chain = LedgerEntry.objects.filter(committee_id=committee_id).order_by("seq")
        head, broken = ledger.verify_chain(
            {"seq": e.seq, "payload": e.payload, "prev_hash": e.prev_hash, "hash": e.hash}
            for e in chain
        )
        assert broken is None
        assert QueueCounter.objects.get(committee_id=committee_id).head_hash == head


def test_preview_then_confirm_refuses_a_stale_count(pharmacy_setup):
    s = pharmacy_setup
    _issued(s)
    pharmacist = UserFactory(role="pharmacy", pharmacy=s["pharmacy"])
    plan = shortfall_preview(actor=pharmacist, pharmacy=s["pharmacy"], date=s["today"], packs=7)
    assert len(plan.cancel) == 3 and not Voucher.objects.filter(status="cancelled").exists()
    with pytest.raises(FieldErrors):
        supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=7, actor=None, confirm=2)
    assert not Voucher.objects.filter(status="cancelled").exists()
    supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=7, actor=None, confirm=3)
    assert Voucher.objects.filter(status="cancelled").count() == 3


def test_api_confirmation_step_then_shortfall(pharmacy_setup, client):
    s = pharmacy_setup
    _issued(s)
    pharmacist = UserFactory(role="pharmacy", pharmacy=s["pharmacy"])
    url = f"/api/v1/pharmacies/{s['pharmacy'].code}/supplies/shortfall"
    body = {"date": s["today"].isoformat(), "packs": 8}
    asked = client.post(url, body, content_type="application/json", **bearer_for(pharmacist))
    assert asked.status_code == 200, asked.content
    assert (asked.json()["cancel"], asked.json()["confirmed"]) == (2, False)
    assert not Voucher.objects.filter(status="cancelled").exists()
    done = client.post(
        url, {**body, "confirm": 2}, content_type="application/json", **bearer_for(pharmacist)
    )
    assert done.status_code == 201, done.content
    assert done.json()["cancelled"] == 2 and done.json()["day_total"] == 8
    other = UserFactory(role="pharmacy", pharmacy=PharmacyFactory())
    refused = client.post(url, body, content_type="application/json", **bearer_for(other))
    assert refused.status_code == 403
    for v in Voucher.objects.filter(status="issued")[:8]:
        _redeem(v)
    low = client.post(
        url,
        {"date": s["today"].isoformat(), "packs": 1, "confirm": 0},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        **bearer_for(pharmacist),
    )
    assert low.status_code == 422
    assert "packs" in json.dumps(low.json())


def test_page_asks_for_confirmation_in_chinese_then_lowers(pharmacy_setup, client):
    s = pharmacy_setup
    _issued(s)
    client.force_login(UserFactory(role="pharmacy", pharmacy=s["pharmacy"]))
    form = {"pharmacy": s["pharmacy"].code, "date": s["today"].isoformat(), "packs": "5"}
    asked = client.post("/vouchers/supply/shortfall/", form)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert 'name="confirm" value="5"' in page
    assert "作废" in page  # the confirmation says, in Chinese, that vouchers are cancelled
    assert not Voucher.objects.filter(status="cancelled").exists()
    done = client.post("/vouchers/supply/shortfall/", {**form, "confirm": "5"})
    assert done.status_code == 302
    assert Voucher.objects.filter(status="cancelled").count() == 5
    bad = client.post("/vouchers/supply/shortfall/", {**form, "packs": "abc"})
    assert bad.status_code == 422
    assert "包数" in bad.content.decode() or "整数" in bad.content.decode()
