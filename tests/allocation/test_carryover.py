from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from fairshare.allocation.carryover import round_carry_over
from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.core.errors import Conflict
from fairshare.registration import ledger
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
from fairshare.registration.tickets import ticket_normalize
from tests.allocation.factories import Entry, queue_build
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
    call_command("verify_ledger", stdout=StringIO())
    assert all(ticket_normalize(r.ticket) == r.ticket for r in carried)
    assert round_carry_over(round=new) == {}  # a second carry-over carries nobody
    assert Registration.objects.filter(round=new).count() == 2
