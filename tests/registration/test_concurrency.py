"""Invariants 1 and 2 under real concurrency (threads, separate DB connections).

200 attempts by 200 different people for 50 households of 2 committees, half
through the API and half through the service, from 16 threads at once: exactly
one attempt per household wins (201), the other three get 409, and each
committee's queue numbers are exactly 1..25. PostgreSQL serializes on the
counter row lock; SQLite on its IMMEDIATE write transaction. Next to it, a test
on PostgreSQL shows the race is real without the lock (max()+1 numbering).
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client

from fairshare.registration.models import QueueCounter, Registration
from fairshare.registration.services import AlreadyRegistered, registration_create
from fairshare.registration.tickets import ticket_new
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_race_is_real_without_the_counter_lock():
    """Numbering by max(queue_number)+1 without the lock collides under concurrency."""
    round_obj, committees, households = _setup()
    committee = committees[0]
    threads_n = 8
    barrier = threading.Barrier(threads_n, timeout=30)
    outcomes: list[str] = []

    def naive(household) -> None:
        try:
            with transaction.atomic():
                last = (
                    Registration.objects.filter(round=round_obj, committee=committee)
                    .order_by("-queue_number")
                    .values_list("queue_number", flat=True)
                    .first()
                ) or 0
                barrier.wait()  # everyone has read the same maximum
                Registration.objects.create(
                    round=round_obj,
                    committee=committee,
                    household=household,
                    queue_number=last + 1,
                    ticket=ticket_new(),
                    channel="online",
                    status="verified",
                    name="某某",
                    phone="13900000000",
                )
            outcomes.append("ok")
        except IntegrityError:
            outcomes.append("collision")
        finally:
            connection.close()

    workers = [threading.Thread(target=naive, args=(h,)) for h in households[:threads_n]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # Without the lock every thread took number 1: one insert wins, the rest collide.
    assert outcomes.count("ok") == 1 and outcomes.count("collision") == threads_n - 1


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
