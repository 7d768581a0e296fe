"""Rounds fenced (issue 18): a round allocates nothing after its last purchase day or
once its unserved were carried into another round; registration closing does not stop it.
Allocation and carry-over of one round serialize on the round's row (PostgreSQL race)."""

from __future__ import annotations

import html
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.allocation import carryover, services
from fairshare.allocation.carryover import round_carry_over
from fairshare.allocation.models import Voucher
from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.core.errors import Conflict
from fairshare.registration.models import Registration
from fairshare.rounds.models import Round
from tests.allocation.factories import Entry, queue_build, supply_set
from tests.allocation.test_api import _auth
from tests.allocation.test_concurrency import _after_read, _at_once
from tests.factories import RoundFactory

pytestmark = pytest.mark.django_db


def _supply(s, packs, date=None):
    supply_declare(
        pharmacy=s["pharmacy"],
        date=date or s["today"],
        packs=packs,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )


def _past_round(s) -> Round:
    """A round whose last purchase day was yesterday, with supply declared for it."""
    yesterday = s["today"] - timedelta(days=1)
    rnd = s["round"]
    Round.objects.filter(pk=rnd.pk).update(
        valid_from=yesterday - timedelta(days=5), valid_until=yesterday
    )
    rnd.refresh_from_db()
    queue_build(round=rnd, committee=s["committees"][0], entries=[Entry()] * 3)
    supply_set(pharmacy=s["pharmacy"], date=yesterday, packs=3)
    return rnd


def test_past_last_purchase_day_refuses_api_409(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    rnd = _past_round(s)
    response = client.post(
        f"/api/v1/rounds/{rnd.pk}/allocations",
        {"date": rnd.valid_until.isoformat()},
        content_type="application/json",
        **_auth(subdistrict_user),
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "round_past_last_day"
    assert not Voucher.objects.exists()


def test_past_last_purchase_day_page_shows_the_error(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    rnd = _past_round(s)
    client.force_login(subdistrict_user)
    form = {"round": str(rnd.pk), "date": rnd.valid_until.isoformat(), "pharmacy": ""}
    response = client.post("/vouchers/allocate/", form)
    assert response.status_code == 409
    with pytest.raises(Conflict) as refused:
        services.allocation_fence_check(round=rnd)
    assert html.escape(str(refused.value.message)) in response.content.decode()
    assert not Voucher.objects.exists()


def test_past_last_purchase_day_refuses_cli_and_dry_run(pharmacy_setup):
    s = pharmacy_setup
    rnd = _past_round(s)
    for dry_run in (True, False):
        with pytest.raises(Conflict) as exc:
            allocation_run(round=rnd, date=rnd.valid_until, dry_run=dry_run)
        assert exc.value.code == "round_past_last_day"
    assert not Voucher.objects.exists()


def test_carried_over_round_refuses_allocation(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    old = s["round"]
    queue_build(round=old, committee=s["committees"][0], entries=[Entry()] * 4)
    new = RoundFactory(district=old.district, carry_over_from=old)
    assert round_carry_over(round=new) == {"A01": 4}
    _supply(s, 4)
    response = client.post(
        f"/api/v1/rounds/{old.pk}/allocations",
        {"date": s["today"].isoformat()},
        content_type="application/json",
        **_auth(subdistrict_user),
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "round_carried_over"
    assert not Voucher.objects.filter(round=old).exists()
    # The target round serves the carried households instead.
    assert allocation_run(round=new, date=s["today"]).issued == 4


def test_registration_closed_still_allocates_within_purchase_days(pharmacy_setup):
    s = pharmacy_setup
    rnd = s["round"]
    Round.objects.filter(pk=rnd.pk).update(
        status=Round.Status.CLOSED, registration_closes_at=timezone.now() - timedelta(hours=1)
    )
    rnd.refresh_from_db()
    queue_build(round=rnd, committee=s["committees"][0], entries=[Entry()] * 3)
    _supply(s, 2)
    assert allocation_run(round=rnd, date=s["today"]).issued == 2


# --- Race: allocation and carry-over of the same round (PostgreSQL) --------------------


def _race_setup(s):
    old = s["round"]
    queue_build(round=old, committee=s["committees"][0], entries=[Entry()] * 6)
    _supply(s, 4)
    new = RoundFactory(district=old.district, carry_over_from=old)
    return old, new


def _served_and_carried(old, new) -> set[int]:
    served = set(
        Voucher.objects.filter(round=old, status__in=Voucher.LIVE_STATUSES).values_list(
            "household_id", flat=True
        )
    )
    carried = set(Registration.objects.filter(round=new).values_list("household_id", flat=True))
    return served & carried


def _carry_after_read(monkeypatch, then):
    read = carryover._waiting_to_carry

    def read_then_wait(**kwargs):
        rows = read(**kwargs)
        then()
        return rows

    monkeypatch.setattr(carryover, "_waiting_to_carry", read_then_wait)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_allocation_and_carry_over_race_never_both(pharmacy_setup, monkeypatch):
    s = pharmacy_setup
    old, new = _race_setup(s)
    _after_read(monkeypatch, lambda: time.sleep(0.3))
    _carry_after_read(monkeypatch, lambda: time.sleep(0.3))
    results = _at_once(
        lambda: allocation_run(round=old, date=s["today"]), lambda: round_carry_over(round=new)
    )
    assert not _served_and_carried(old, new), results
    allocated, carried = results
    # Either the allocation ran first (4 served, the other 2 carried) or the carry-over
    # did (all 6 carried, the allocation refused): never both for one household.
    if isinstance(allocated, Exception):
        assert getattr(allocated, "code", None) == "round_carried_over" and carried == {"A01": 6}
    else:
        assert allocated.issued == 4 and carried == {"A01": 2}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_race_is_real_without_the_round_lock(pharmacy_setup, monkeypatch):
    """Negative control: with the round row lock switched off, both read the same
    waiting households, so some are served in the old round and carried into the new."""
    s = pharmacy_setup
    old, new = _race_setup(s)
    monkeypatch.setattr(services, "lock_rows", lambda queryset, **kw: queryset)
    monkeypatch.setattr(carryover, "lock_rows", lambda queryset, **kw: queryset)
    both_read = threading.Barrier(2)
    _after_read(monkeypatch, lambda: both_read.wait(timeout=10))
    _carry_after_read(monkeypatch, lambda: both_read.wait(timeout=10))
    results = _at_once(
        lambda: allocation_run(round=old, date=s["today"]), lambda: round_carry_over(round=new)
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(_served_and_carried(old, new)) == 4


def _register_while_round_locked(s, monkeypatch, *, lock) -> tuple[int, float]:
    """Hold the allocation's round lock for 1.5 s in one thread; register a household of
    the round through the API meanwhile: (status, seconds the registration took)."""
    from django.db import connection
    from django.test import Client

    from fairshare.core.locking import write_transaction
    from tests.factories import HouseholdFactory

    monkeypatch.setattr(services, "lock_rows", lock)
    household = HouseholdFactory(building__committee=s["committees"][0])
    held, release = threading.Event(), threading.Event()

    def allocation_holding_the_lock() -> None:
        try:
            with write_transaction():
                services.round_lock(round=s["round"])
                held.set()
                release.wait(timeout=1.5)
        finally:
            connection.close()

    holder = threading.Thread(target=allocation_holding_the_lock)
    holder.start()
    assert held.wait(timeout=10)
    body = {
        "committee": household.committee.code,
        "building": household.building.label,
        "room": household.room,
        "name": "张三",
        "phone": "13800138000",
    }
    started = time.monotonic()
    answer = Client().post(
        f"/api/v1/rounds/{s['round'].pk}/registrations", body, content_type="application/json"
    )
    took = time.monotonic() - started
    release.set()
    holder.join()
    return answer.status_code, took


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_registration_never_waits_for_an_allocation_of_its_round(pharmacy_setup, monkeypatch):
    """Locking rule 7: the allocation's round lock is FOR NO KEY UPDATE, so a registration
    (whose foreign key to the round takes FOR KEY SHARE) goes through at once."""
    status, took = _register_while_round_locked(
        pharmacy_setup, monkeypatch, lock=services.lock_rows
    )
    assert status == 201 and took < 1.0, (status, took)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_full_round_lock_would_make_registrations_wait(pharmacy_setup, monkeypatch):
    """Negative control: with FOR UPDATE the same registration waits for the allocation."""
    status, took = _register_while_round_locked(
        pharmacy_setup, monkeypatch, lock=lambda queryset, **kw: queryset.select_for_update()
    )
    assert took >= 1.4 or status == 503, (status, took)
