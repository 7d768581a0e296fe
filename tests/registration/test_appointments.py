"""Desk appointment windows: capacity from the minutes per household, never overbooked."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from fairshare.core.errors import Conflict
from fairshare.core.sms import SMS_KINDS
from fairshare.registration import appointments
from fairshare.registration.appointments import appointment_take, window_open
from fairshare.registration.models import Appointment, AppointmentWindow
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    RoundFactory,
    UserFactory,
)

TAKERS = 8


def _window(capacity_minutes: int = 6):
    committee = CommitteeFactory()
    round_obj = RoundFactory(district=committee.subdistrict.district)
    staff = UserFactory(role="committee", committee=committee)
    building = BuildingFactory(committee=committee)
    households = [HouseholdFactory(building=building, room=f"{100 + n}") for n in range(TAKERS)]
    start = timezone.now() + timedelta(hours=1)
    window = window_open(
        round=round_obj,
        committee=committee,
        desk="1",
        starts_at=start,
        ends_at=start + timedelta(minutes=capacity_minutes),
        minutes_per_household=None,  # default 2 minutes → capacity 3
        actor=staff,
    )
    return window, households


@pytest.mark.django_db
def test_slots_follow_the_minutes_and_a_full_window_refuses():
    assert "appointment" in SMS_KINDS
    window, households = _window()
    assert window.capacity == 3 and window.minutes_per_household == 2
    taken = [
        appointment_take(window=window, household=h, name="居民", phone="13812345678")
        for h in households[:3]
    ]
    assert [(a.at - window.starts_at).seconds // 60 for a in taken] == [0, 2, 4]
    again = appointment_take(window=window, household=households[0], name="居民")
    assert again.pk == taken[0].pk
    with pytest.raises(Conflict):
        appointment_take(window=window, household=households[3], name="居民")
    assert Appointment.objects.count() == 3


def _race(window, households, monkeypatch, *, lock: bool) -> list[object]:
    """TAKERS households take a slot at once; all read the window before anyone writes
    when the lock is off (``lock_rows`` replaced by the plain queryset)."""
    barrier = threading.Barrier(TAKERS, timeout=30)
    real = appointments.lock_rows

    def lock_rows(queryset, **kwargs):
        if lock:
            barrier.wait()
            return real(queryset, **kwargs)
        rows = list(queryset)  # everyone reads the same counter
        barrier.wait()
        return queryset.filter(pk__in=[r.pk for r in rows])

    monkeypatch.setattr(appointments, "lock_rows", lock_rows)

    def take(n: int) -> object:
        try:
            return appointment_take(window=window, household=households[n], name=f"居民{n}").slot
        except Exception as exc:  # the outcome under test
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=TAKERS) as pool:
        return list(pool.map(take, range(TAKERS)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_race_with_the_window_lock_never_overbooks(settings, monkeypatch):
    settings.LOCK_TIMEOUT_MS = 60000
    window, households = _window()
    answers = _race(window, households, monkeypatch, lock=True)
    assert sorted(a for a in answers if isinstance(a, int)) == [0, 1, 2], answers
    assert sum(isinstance(a, Conflict) for a in answers) == TAKERS - 3
    window.refresh_from_db()
    assert window.booked == Appointment.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_race_is_real_without_the_window_lock(settings, monkeypatch):
    """Negative control: without the lock every taker reads booked 0 and claims slot 0;
    the unique (window, slot) lets one in and the others fail with a database error,
    although the window still had free slots."""
    settings.LOCK_TIMEOUT_MS = 60000
    window, households = _window()
    answers = _race(window, households, monkeypatch, lock=False)
    assert answers.count(0) == 1, answers
    assert not any(isinstance(a, Conflict) for a in answers), answers  # nobody told "full"
    assert AppointmentWindow.objects.get(pk=window.pk).booked == 1 == Appointment.objects.count()


@pytest.mark.django_db
def test_staff_open_a_window_take_a_time_and_see_who_is_due(client, place, staff):
    client.force_login(staff)
    url = f"/r/desk/{place['round'].pk}/KJ01/appointments/"
    start = timezone.localtime() - timedelta(minutes=30)
    fmt = "%Y-%m-%dT%H:%M"
    bad = client.post(url, {"action": "open", "desk": "1", "starts_at": start.strftime(fmt)})
    assert bad.status_code == 422 and AppointmentWindow.objects.count() == 0
    response = client.post(
        url,
        {
            "action": "open",
            "desk": "1",
            "starts_at": start.strftime(fmt),
            "ends_at": (start + timedelta(minutes=40)).strftime(fmt),
            "minutes_per_household": "2",
        },
    )
    assert response.status_code == 200
    window = AppointmentWindow.objects.get()
    assert window.capacity == 20
    response = client.post(
        url,
        {
            "action": "take",
            "window": window.pk,
            "address": "12-301",
            "name": "张三明",
            "phone": "13812345678",
        },
    )
    assert response.status_code == 200 and response.context["taken"].slot == 0
    # Its slot (30 minutes ago) is late; registering at the desk takes it off the list.
    text = response.content.decode()
    assert response.context["taken"] and "12号-301" in text.split('id="appointments-title"')[1]
    from fairshare.registration.services import registration_create

    registration_create(
        round=place["round"],
        household=place["household"],
        name="张三明",
        phone="13812345678",
        channel="desk",
        actor=staff,
    )
    after = client.get(url).content.decode()
    assert "12号-301" not in after.split('id="appointments-title"')[1]
