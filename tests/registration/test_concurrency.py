"""One live registration per household, unique gapless queue numbers, under real
concurrency (threads, separate DB connections; registration/queue.py).

200 attempts by 200 different people for 50 households of 2 committees, half
through the API and half through the service, from 16 threads at once: exactly
one attempt per household wins (201), the other three get 409, and each
committee's queue numbers are exactly 1..25. PostgreSQL serializes on the
counter row lock; SQLite on its IMMEDIATE write transaction. Next to it, on
PostgreSQL, the same service races with its counter lock switched off (the negative
control) and with it on.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from fairshare.registration import queue
from fairshare.registration.models import QueueCounter, Registration
from fairshare.registration.services import AlreadyRegistered, registration_create
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    RoundFactory,
    SubdistrictFactory,
)

HOUSEHOLDS_PER_COMMITTEE = 25
ATTEMPTS_PER_HOUSEHOLD = 4
WORKERS = 16


def _setup():
    subdistrict = SubdistrictFactory()
    committees = [CommitteeFactory(subdistrict=subdistrict, code=f"CC{i}") for i in range(2)]
    households = []
    for committee in committees:
        building = BuildingFactory(committee=committee, label="1号")
        households += [
            HouseholdFactory(building=building, room=f"{100 + n}")
            for n in range(HOUSEHOLDS_PER_COMMITTEE)
        ]
    round_obj = RoundFactory(district=subdistrict.district)
    return round_obj, committees, households


def _attempts(round_obj, households):
    attempts = []
    person = 0
    for household in households:
        for _ in range(ATTEMPTS_PER_HOUSEHOLD):
            person += 1
            attempts.append(
                {
                    "household": household,
                    "name": f"居民{person}",
                    "phone": f"139{person:08d}",
                    "via_api": person % 2 == 0,
                }
            )
    random.Random(20200202).shuffle(attempts)
    return attempts


def _attempt(round_obj, attempt) -> int:
    household = attempt["household"]
    try:
        if attempt["via_api"]:
            response = Client().post(
                f"/api/v1/rounds/{round_obj.pk}/registrations",
                {
                    "committee": household.committee.code,
                    "building": household.building.label,
                    "room": household.room,
                    "name": attempt["name"],
                    "phone": attempt["phone"],
                },
                content_type="application/json",
            )
            return response.status_code
        try:
            result = registration_create(
                round=round_obj,
                household=household,
                name=attempt["name"],
                phone=attempt["phone"],
                channel="online",
            )
        except AlreadyRegistered:
            return 409
        return 201 if result.created else 200
    except Exception as exc:  # any crash is an unacceptable answer, not a test error
        return f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()


def _storm_and_check(settings):
    settings.LOCK_TIMEOUT_MS = 60000  # a 503 Busy is not an acceptable answer here
    round_obj, committees, households = _setup()
    attempts = _attempts(round_obj, households)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        answers = list(pool.map(lambda a: _attempt(round_obj, a), attempts))

    assert len(answers) == 200
    assert {a for a in answers if a not in (201, 409)} == set(), answers
    assert answers.count(201) == 50 and answers.count(409) == 150
    live = Registration.objects.exclude(status="void")
    assert live.count() == 50
    assert live.values("household").distinct().count() == 50
    for committee in committees:
        numbers = sorted(live.filter(committee=committee).values_list("queue_number", flat=True))
        assert numbers == list(range(1, HOUSEHOLDS_PER_COMMITTEE + 1))
        counter = QueueCounter.objects.get(round=round_obj, committee=committee)
        assert counter.last_number == counter.ledger_seq == HOUSEHOLDS_PER_COMMITTEE
    call_command("verify_ledger")  # the chains are intact too (raises when broken)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_concurrent_attempts_postgres_row_lock(settings):
    _storm_and_check(settings)


@pytest.mark.django_db(transaction=True)
def test_200_concurrent_attempts_sqlite_or_any_database(settings):
    # On SQLite the IMMEDIATE transaction is the lock; on PostgreSQL this repeats the above.
    _storm_and_check(settings)


RACERS = 8


def _race(round_obj, households, monkeypatch, *, lock: bool) -> list[object]:
    """RACERS households of one committee register at once through ``registration_create``.

    The counter lock step is wrapped so that all threads meet at a barrier: before the
    lock when it is on (they then queue on the row lock), after the counter read when it
    is off (``row_lock_sql`` replaced by "": the product's own code without its guard),
    so that every thread has read the same last number before anyone writes. The counter
    row exists beforehand (else the first thread's uncommitted INSERT of it would hold
    the others back before the barrier).
    """
    QueueCounter.objects.create(round=round_obj, committee=households[0].committee)
    barrier = threading.Barrier(RACERS, timeout=30)
    real_lock = queue.counter_lock
    if not lock:
        monkeypatch.setattr(queue, "row_lock_sql", lambda using="default": "")

    def counter_lock(**where):
        if lock:
            barrier.wait()
        counter = real_lock(**where)
        if not lock:
            barrier.wait()  # everyone has read the same counter
        return counter

    monkeypatch.setattr(queue, "counter_lock", counter_lock)

    def register(n: int) -> object:
        try:
            result = registration_create(
                round=round_obj,
                household=households[n],
                name=f"居民{n}",
                phone=f"139{n:08d}",
                channel="online",
            )
            return result.registration.queue_number
        except Exception as exc:  # the outcome under test
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        return list(pool.map(register, range(RACERS)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_race_with_the_counter_lock_numbers_every_household(settings, monkeypatch):
    settings.LOCK_TIMEOUT_MS = 60000
    round_obj, committees, households = _setup()
    answers = _race(round_obj, households, monkeypatch, lock=True)
    assert sorted(answers) == list(range(1, RACERS + 1))  # unique and gapless
    live = Registration.objects.exclude(status="void")
    assert live.count() == live.values("household").distinct().count() == RACERS
    counter = QueueCounter.objects.get(round=round_obj, committee=committees[0])
    assert counter.last_number == counter.ledger_seq == RACERS
    call_command("verify_ledger")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_race_is_real_without_the_counter_lock(settings, monkeypatch):
    """Negative control: the same code with its counter lock switched off.

    Every thread reads last number 0 and tries number 1. The unique constraint on
    (round, committee, queue number), the database's last guard, lets one in; the
    others' inserts find no free number however often a new ticket is drawn, so those
    households are refused although none of them was registered.
    """
    settings.LOCK_TIMEOUT_MS = 60000
    round_obj, _committees, households = _setup()
    answers = _race(round_obj, households, monkeypatch, lock=False)
    assert answers.count(1) == 1
    failures = [a for a in answers if a != 1]
    assert len(failures) == RACERS - 1
    assert all(isinstance(a, RuntimeError) for a in failures), failures
    assert Registration.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_idempotency_key_concurrently_registers_once(settings):
    settings.LOCK_TIMEOUT_MS = 60000
    round_obj, _committees, households = _setup()
    household = households[0]
    body = {
        "committee": household.committee.code,
        "building": household.building.label,
        "room": household.room,
        "name": "居民甲",
        "phone": "13900000001",
    }

    def post(_):
        try:
            response = Client().post(
                f"/api/v1/rounds/{round_obj.pk}/registrations",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="same-key",
            )
            return response.status_code, response.json().get("ticket")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(8)))
    assert {status for status, _ in answers} <= {200, 201}
    assert len({ticket for _, ticket in answers}) == 1
    assert Registration.objects.count() == 1
