"""The review gate (docs/fairness.md): pending review keeps its place, gets no voucher
before staff approve it, and is served at its place at the next allocation."""

from __future__ import annotations

import pytest

from fairshare.allocation.engine import allocation_run
from fairshare.allocation.models import Voucher
from fairshare.allocation.services import supply_declare
from fairshare.registration.services import registration_approve
from tests.allocation.factories import Entry, queue_build
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _declare(s, packs):
    return supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=packs,
        manufacturer="厂家",
        style="平面",
        unit_price="2.50",
        actor=None,
    )


def _served():
    return sorted(
        Voucher.objects.filter(status__in=Voucher.LIVE_STATUSES).values_list(
            "registration__queue_number", flat=True
        )
    )


def test_pending_is_never_served_before_approval_even_with_supply_to_spare(pharmacy_setup):
    s = pharmacy_setup
    entries = [Entry(), Entry(status="pending_review"), Entry(), Entry(status="pending_review")]
    queue_build(round=s["round"], committee=s["committees"][0], entries=entries)
    _declare(s, 50)  # far more than waiting
    result = allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    assert _served() == [1, 3]
    # Held back: pending ones ahead of the last number served (3): #2 only.
    assert result.held_for_review == 1
    assert result.by_committee[0]["held_for_review"] == 1


def test_approved_is_served_at_its_place_before_later_numbers(pharmacy_setup):
    s = pharmacy_setup
    committee = s["committees"][0]
    entries = [Entry(), Entry(status="pending_review"), Entry(), Entry()]
    regs = queue_build(round=s["round"], committee=committee, entries=entries)
    _declare(s, 1)
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    assert _served() == [1]
    staff = UserFactory(role="committee", committee=committee)
    registration_approve(registration=regs[1], actor=staff)
    _declare(s, 2)  # one more household's worth
    result = allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    assert _served() == [1, 2]  # the approved #2 before the later #3 and #4
    assert result.held_for_review == 0


def test_a_dry_run_reports_the_same_held_back_count(pharmacy_setup):
    s = pharmacy_setup
    entries = [Entry(status="pending_review"), Entry(status="pending_review"), Entry()]
    queue_build(round=s["round"], committee=s["committees"][0], entries=entries)
    _declare(s, 10)
    preview = allocation_run(
        round=s["round"], date=s["today"], pharmacy=s["pharmacy"], dry_run=True
    )
    assert preview.issued == 1 and preview.held_for_review == 2
    assert not Voucher.objects.exists()
