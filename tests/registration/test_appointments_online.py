"""The resident books a desk appointment time online (issue 16), through the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.core.models import OutboxMessage
from fairshare.registration.appointments import window_open
from fairshare.registration.models import Appointment, AppointmentWindow
from tests.factories import (
    CommitteeFactory,
    DistrictFactory,
    HouseholdFactory,
    SubdistrictFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _url(place, code="KJ01"):
    return f"/r/{place['round'].pk}/{code}/appointment/"


def _window(place, minutes=4) -> AppointmentWindow:
    start = timezone.now() + timedelta(hours=1)
    return window_open(
        round=place["round"],
        committee=place["committee"],
        desk="2",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        minutes_per_household=2,
        actor=UserFactory(role="committee", committee=place["committee"]),
    )


def _post(client, place, window, household=None, phone="13812345678"):
    return client.post(
        _url(place),
        {
            "building": place["building"].pk,
            "room": (household or place["household"]).pk,
            "name": "张三明",
            "phone": phone,
            "window": window.pk,
        },
    )


def _sms():
    return [m.payload for m in OutboxMessage.objects.filter(kind="sms")]


def test_entry_links_the_booking_only_when_a_window_is_open(client: Client, place):
    entry = f"/r/{place['round'].pk}/KJ01/"
    assert _url(place) not in client.get(entry).content.decode()
    _window(place)
    assert _url(place) in client.get(entry).content.decode()


def test_booking_writes_one_appointment_and_one_sms(client: Client, place):
    window = _window(place)
    page = client.get(_url(place), {"building": place["building"].pk})
    assert page.status_code == 200
    assert f'value="{place["household"].pk}"' in page.content.decode()
    assert f'name="window" value="{window.pk}"' in page.content.decode()
    response = _post(client, place, window)
    assert response.status_code == 200
    appointment = Appointment.objects.get()
    assert appointment.household == place["household"] and appointment.phone == "13812345678"
    assert timezone.localtime(appointment.at).strftime("%H:%M") in response.content.decode()
    sms = _sms()
    assert len(sms) == 1 and "appointment" in str(sms[0])
    # The same household again: its existing appointment, nothing new written.
    again = _post(client, place, window)
    assert again.status_code == 200 and "已有" in again.content.decode()
    assert Appointment.objects.count() == 1 and len(_sms()) == 1
    # Somebody else naming the same room with another phone learns only that it is
    # booked, not when or at which desk.
    other = _post(client, place, window, phone="13987654321")
    assert other.status_code == 409 and "已发送到当时留下的手机号码" in other.content.decode()
    assert "big-number" not in other.content.decode()  # no confirmation page (time, desk)
    assert Appointment.objects.count() == 1 and len(_sms()) == 1


def test_a_full_window_refuses_and_writes_nothing(client: Client, place):
    window = _window(place, minutes=2)  # one place
    other = HouseholdFactory(building=place["building"], room="302")
    assert _post(client, place, window, household=other).status_code == 200
    response = _post(client, place, window)
    assert response.status_code == 409
    assert "约满" in response.content.decode()
    assert Appointment.objects.count() == 1 and len(_sms()) == 1
    window.refresh_from_db()
    assert window.booked == 1


def test_a_bad_or_missing_phone_is_a_field_error_and_writes_nothing(client: Client, place):
    window = _window(place)
    for phone in ("12345", ""):
        response = _post(client, place, window, phone=phone)
        assert response.status_code == 422
        assert "手机号" in response.content.decode()
    assert not Appointment.objects.exists() and not _sms()
    window.refresh_from_db()
    assert window.booked == 0
    # Negative control: the same page with a good phone books.
    assert _post(client, place, window).status_code == 200


def test_the_page_404s_for_a_committee_outside_the_round(client: Client, place):
    elsewhere = SubdistrictFactory(district=DistrictFactory(code="HK", name="虹口区"))
    CommitteeFactory(code="ZZ99", subdistrict=elsewhere)
    _window(place)
    assert client.get(_url(place, code="ZZ99")).status_code == 404
    assert client.get(_url(place)).status_code == 200  # negative control
