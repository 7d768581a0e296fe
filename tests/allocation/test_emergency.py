"""Emergency delivery (``allocation/emergency.py``): the set-aside stock is kept out of
allocation, deliveries never exceed it nor the supply, a household is never served
twice, and the ledger's order checker accepts the delivery but still catches a
tampered order."""

from __future__ import annotations

import copy
import json

import pytest

from fairshare.allocation.emergency import emergency_deliver, emergency_stock_set
from fairshare.allocation.models import Voucher
from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.community.models import Building
from fairshare.core.errors import Conflict, FieldErrors, Forbidden
from fairshare.core.masking import mask_name
from fairshare.pharmacy.stockfeed import stock_feed
from fairshare.registration.ledger_order import check_order
from fairshare.registration.models import LedgerEntry, Registration
from fairshare.registration.selectors import ledger_export
from fairshare.registration.services import AlreadyRegistered, registration_create
from fairshare.registration.verify import verify_database, verify_export
from tests.factories import HouseholdFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

_phone = [0]


def _phone_next() -> str:
    _phone[0] += 1
    return f"1391{_phone[0]:07d}"


def _households(committee, n):
    label = f"{committee.code}-{Building.objects.count() + 1}号"
    building = Building.objects.create(committee=committee, label=label)
    out = []
    for _ in range(n):
        household = HouseholdFactory(building=building)
        MemberFactory(household=household, name="王老伯")
        out.append(household)
    return out


def _register(rnd, households):
    return [
        registration_create(
            round=rnd, household=h, name="王老伯", phone=_phone_next(), channel="online"
        ).registration
        for h in households
    ]


def _declare(s, packs):
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=packs,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )


def _deliver(rnd, household, staff):
    return emergency_deliver(
        round=rnd,
        household=household,
        name="李阿婆",
        phone=_phone_next(),
        reason="elderly",
        received_by="李阿婆",
        actor=staff,
    )


def _feed(s):
    return next(r for r in stock_feed(day=s["today"]) if r["code"] == s["pharmacy"].code)


@pytest.fixture
def setup(pharmacy_setup):
    s = pharmacy_setup
    committee = s["committees"][0]
    manager = UserFactory(role="district", district=committee.subdistrict.district)
    emergency_stock_set(round=s["round"], committee_id=committee.pk, packs=2, actor=manager)
    s["committee"] = committee
    s["staff"] = UserFactory(role="committee", committee=committee)
    return s


def _live_packs(s):
    return sum(
        Voucher.objects.filter(
            supply_day__date=s["today"], status__in=Voucher.LIVE_STATUSES
        ).values_list("packs", flat=True)
    )


def test_set_aside_is_kept_out_of_allocation_and_deliveries_never_exceed_it(setup):
    s, rnd = setup, setup["round"]
    _register(rnd, _households(s["committee"], 6))
    _declare(s, 5)
    assert _feed(s)["set_aside_packs"] == 2 and _feed(s)["unallocated_packs"] == 3
    allocation_run(round=rnd, date=s["today"], pharmacy=s["pharmacy"])
    assert Voucher.objects.count() == 3  # 5 confirmed − 2 set aside
    assert _feed(s)["unallocated_packs"] == 0
    lone = _households(s["committee"], 3)
    first = _deliver(rnd, lone[0], s["staff"])
    assert first.status == Voucher.Status.REDEEMED and first.fulfilment == "delivery"
    assert first.handed_over_by == s["staff"] and first.registration.channel == "emergency"
    assert _feed(s)["set_aside_packs"] == 1
    # A re-run gives nothing more: the last set-aside pack stays for an emergency.
    allocation_run(round=rnd, date=s["today"], pharmacy=s["pharmacy"])
    assert Voucher.objects.count() == 4
    _deliver(rnd, lone[1], s["staff"])
    with pytest.raises(Conflict):  # the set-aside stock is used up
        _deliver(rnd, lone[2], s["staff"])
    assert not Registration.objects.filter(household=lone[2]).exists()
    assert _live_packs(s) == 5 == _feed(s)["confirmed_packs"]
    assert _feed(s)["set_aside_packs"] == 0 and _feed(s)["unallocated_packs"] == 0


def test_vouchers_plus_emergency_never_exceed_supply(setup):
    s, rnd = setup, setup["round"]
    _register(rnd, _households(s["committee"], 3))
    _declare(s, 3)
    allocation_run(round=rnd, date=s["today"], pharmacy=s["pharmacy"])
    assert Voucher.objects.count() == 1
    # The stock is raised after the day was allocated: the supply still bounds deliveries.
    manager = UserFactory(role="district", district=s["committee"].subdistrict.district)
    emergency_stock_set(round=rnd, committee_id=s["committee"].pk, packs=5, actor=manager)
    lone = _households(s["committee"], 3)
    _deliver(rnd, lone[0], s["staff"])
    _deliver(rnd, lone[1], s["staff"])
    with pytest.raises(Conflict):
        _deliver(rnd, lone[2], s["staff"])
    assert _live_packs(s) == 3


def test_no_stock_without_a_set_aside_or_a_confirmed_day(pharmacy_setup):
    s = pharmacy_setup
    other = s["committees"][1]
    staff = UserFactory(role="committee", committee=other)
    _declare(s, 5)
    with pytest.raises(Conflict):  # this committee has no set-aside
        _deliver(s["round"], _households(other, 1)[0], staff)
    assert not Voucher.objects.exists()


def test_a_household_is_never_served_twice(setup):
    s, rnd = setup, setup["round"]
    _declare(s, 5)
    registered, lone = _households(s["committee"], 2)
    _register(rnd, [registered])
    with pytest.raises(AlreadyRegistered):
        _deliver(rnd, registered, s["staff"])
    _deliver(rnd, lone, s["staff"])
    with pytest.raises(AlreadyRegistered):
        _deliver(rnd, lone, s["staff"])
    with pytest.raises(AlreadyRegistered):
        registration_create(
            round=rnd, household=lone, name="王老伯", phone=_phone_next(), channel="online"
        )
    allocation_run(round=rnd, date=s["today"], pharmacy=s["pharmacy"])
    assert Voucher.objects.filter(household=lone).count() == 1
    assert Voucher.objects.filter(household=registered).count() == 1


def test_bad_input_and_other_committees_change_nothing(setup):
    s, rnd = setup, setup["round"]
    _declare(s, 5)
    household = _households(s["committee"], 1)[0]
    with pytest.raises(FieldErrors) as bad:
        emergency_deliver(
            round=rnd,
            household=household,
            name="",
            phone="12",
            reason="bored",
            received_by="",
            actor=s["staff"],
        )
    assert {"name", "phone", "reason", "received_by"} <= set(bad.value.errors)
    outsider = UserFactory(role="committee", committee=s["committees"][1])
    with pytest.raises(Forbidden):
        _deliver(rnd, household, outsider)
    with pytest.raises(Forbidden):
        emergency_stock_set(round=rnd, committee_id=s["committee"].pk, packs=9, actor=s["staff"])
    with pytest.raises(FieldErrors):  # the channel is not open to ordinary registration
        registration_create(
            round=rnd,
            household=household,
            name="王老伯",
            phone=_phone_next(),
            channel="emergency",
            actor=s["staff"],
        )
    assert not Registration.objects.exists() and not Voucher.objects.exists()


def test_ledger_links_verify_and_the_order_checker_accepts_and_still_catches(setup):
    s, rnd = setup, setup["round"]
    queued = _households(s["committee"], 3)
    _register(rnd, queued[:1])  # queue number 1
    lone = _households(s["committee"], 1)[0]
    _declare(s, 4)
    voucher = _deliver(rnd, lone, s["staff"])  # queue number 2, outside the order
    _register(rnd, queued[1:])  # 3, 4
    allocation_run(round=rnd, date=s["today"], pharmacy=s["pharmacy"])
    kinds = list(
        LedgerEntry.objects.filter(committee=s["committee"])
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "registered",
        "registered",
        "emergency",
        "registered",
        "registered",
        "allocation",
    ]
    link = json.loads(LedgerEntry.objects.get(kind="emergency").payload)
    assert link["queue_number"] == voucher.registration.queue_number == 2
    assert link["pharmacy"] == s["pharmacy"].code and link["packs"] == voucher.packs
    registered = json.loads(LedgerEntry.objects.filter(kind="registered")[1].payload)
    assert registered["channel"] == "emergency" and "李" not in registered["name"][1:]
    reports = verify_database()
    assert all(r.ok for r in reports), [(r.broken_seq, r.reason) for r in reports]
    export = ledger_export(round=rnd, committee=s["committee"])
    assert check_order(export) == []
    assert verify_export(json.loads(json.dumps(export))).ok  # as `verify_ledger --file` does
    # Negative controls: without its emergency link the household would have waited
    # (the allocation then skipped queue number 2) ...
    dropped = copy.deepcopy(export)
    dropped["links"] = [
        x for x in dropped["links"] if json.loads(x["payload"])["kind"] != "emergency"
    ]
    assert check_order(dropped)
    # ... and an emergency link for a queued registration is reported.
    forged = copy.deepcopy(export)
    body = json.loads(forged["links"][2]["payload"])
    forged["links"][2]["payload"] = json.dumps(dict(body, queue_number=1))
    assert any("emergency" in p for p in check_order(forged))
    # The stored voucher tampered with: verify_ledger breaks at the emergency link.
    Voucher.objects.filter(pk=voucher.pk).update(packs=voucher.packs + 1)
    broken = [r for r in verify_database() if not r.ok]
    assert broken and broken[0].broken_seq == 3


def test_the_delivery_appears_on_the_public_board_masked_and_served(setup, client):
    s, rnd = setup, setup["round"]
    _declare(s, 3)
    voucher = _deliver(rnd, _households(s["committee"], 1)[0], s["staff"])
    url = f"/api/v1/public/rounds/{rnd.pk}/committees/{s['committee'].code}/board"
    body = client.get(url).json()
    [entry] = body["entries"]
    assert entry["queue_number"] == voucher.registration.queue_number
    assert entry["status"] == "bought" and entry["name"] != "李阿婆"
    assert entry["name"] == mask_name("李阿婆")
