from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from fairshare.allocation.carryover import carry_over_run, round_carry_over
from fairshare.allocation.models import CarryOver, Voucher
from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.core.errors import Conflict
from fairshare.core.models import OutboxMessage
from fairshare.registration import ledger
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
from fairshare.registration.tickets import ticket_normalize
from tests.allocation.factories import Entry, queue_build, supply_set
from tests.factories import RoundFactory

pytestmark = pytest.mark.django_db


def test_carry_over_puts_unserved_first_with_ledger(pharmacy_setup):
    s = pharmacy_setup
    old = s["round"]
    entries = [Entry(), Entry(channel="desk"), Entry(status="void"), Entry(), Entry()]
    queue_build(round=old, committee=s["committees"][0], entries=entries)
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=2,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )
    allocation_run(round=old, date=s["today"], pharmacy=s["pharmacy"])  # serves #1, #2
    new = RoundFactory(district=old.district, carry_over_from=old)
    counts = round_carry_over(round=new)
    assert counts == {"A01": 2}
    carried = list(Registration.objects.filter(round=new).order_by("queue_number"))
    old_numbers = [
        Registration.objects.get(round=old, household=r.household).queue_number for r in carried
    ]
    assert old_numbers == [4, 5] and [r.queue_number for r in carried] == [1, 2]
    counter = QueueCounter.objects.get(round=new, committee=s["committees"][0])
    assert counter.last_number == 2 and counter.ledger_seq == 2
    links = (
        LedgerEntry.objects.filter(round=new)
        .order_by("seq")
        .values("seq", "payload", "prev_hash", "hash")
    )
    head, broken = ledger.verify_chain(links)
    assert broken is None and head == counter.head_hash
    # The whole database verifies, including the links against the stored rows, and the
    # carried households can look up their new tickets.
    # (The old round's queue was built without links: only the new round is checked.)
    call_command("verify_ledger", "--round", str(new.pk), stdout=StringIO())
    assert all(ticket_normalize(r.ticket) == r.ticket for r in carried)
    assert round_carry_over(round=new) == {}  # a second carry-over carries nobody
    assert Registration.objects.filter(round=new).count() == 2


def _sms(kind: str):
    return OutboxMessage.objects.filter(kind="sms", payload__kind=kind)


def test_nobody_served_twice_across_a_carry_over(pharmacy_setup):
    s = pharmacy_setup
    old = s["round"]
    for committee in s["committees"][:2]:
        queue_build(round=old, committee=committee, entries=[Entry()] * 5)
    supply_set(pharmacy=s["pharmacy"], date=s["today"], packs=4)
    assert allocation_run(round=old, date=s["today"]).issued == 4
    new = RoundFactory(district=old.district, carry_over_from=old)
    assert sum(round_carry_over(round=new).values()) == 6
    with pytest.raises(Conflict):  # the old round is fenced now
        allocation_run(round=old, date=s["today"])
    tomorrow = s["today"] + timedelta(days=1)
    supply_set(pharmacy=s["pharmacy"], date=tomorrow, packs=20)
    assert allocation_run(round=new, date=tomorrow).issued == 6
    served = Counter(
        Voucher.objects.filter(
            round__in=[old, new], status__in=[Voucher.Status.ISSUED, Voucher.Status.REDEEMED]
        ).values_list("household_id", flat=True)
    )
    assert len(served) == 10 and max(served.values()) == 1


def test_carry_over_twice_carries_nobody_the_second_time(pharmacy_setup):
    s = pharmacy_setup
    old = s["round"]
    queue_build(round=old, committee=s["committees"][0], entries=[Entry()] * 3)
    new = RoundFactory(district=old.district, carry_over_from=old)
    first = carry_over_run(round=new)
    assert first["total"] == 3
    second = carry_over_run(round=new)
    assert second == {"carried": {}, "total": 0, "without_mobile": 0}
    assert Registration.objects.filter(round=new).count() == 3
    assert _sms("carry_over").count() == 3
    assert CarryOver.objects.get(target=new).carried == 3


def test_carry_over_sms_one_per_carried_household_with_a_mobile(pharmacy_setup):
    s = pharmacy_setup
    old = s["round"]
    regs = queue_build(round=old, committee=s["committees"][0], entries=[Entry()] * 5)
    Registration.objects.filter(pk=regs[4].pk).update(phone="")  # no mobile
    supply_set(pharmacy=s["pharmacy"], date=s["today"], packs=2)
    allocation_run(round=old, date=s["today"])  # serves #1, #2 (their voucher SMS only)
    served = {r.household_id for r in regs[:2]}
    new = RoundFactory(district=old.district, carry_over_from=old)
    result = carry_over_run(round=new)
    assert result["total"] == 3 and result["without_mobile"] == 1
    messages = list(_sms("carry_over"))
    assert len(messages) == 2
    assert not {m.household_id for m in messages} & served
    carried = {r.household_id: r for r in Registration.objects.filter(round=new)}
    for message in messages:
        reg = carried[message.household_id]
        assert message.payload["phone"] == reg.phone
        assert message.payload["vars"] == {
            "committee": s["committees"][0].name,
            "round": new.name,
            "number": str(reg.queue_number),
            "ticket": reg.ticket,
        }
