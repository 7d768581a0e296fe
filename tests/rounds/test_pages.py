"""The staff pages of the round life cycle (issue 19)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.core.models import AuditLog
from fairshare.rounds.models import Round
from tests.factories import RoundFactory

pytestmark = pytest.mark.django_db


def form(days: int = 30, **extra):
    start = timezone.localtime(timezone.now() + timedelta(days=days))
    data = {
        "name": "第二轮",
        "registration_opens_at": start.strftime("%Y-%m-%dT%H:%M"),
        "registration_closes_at": (start + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "valid_from": (start + timedelta(days=1)).date().isoformat(),
        "valid_until": (start + timedelta(days=4)).date().isoformat(),
        "policy": "fcfs",
        "offline_reserve_pct": "5",
    }
    data.update(extra)
    return data


def test_create_open_close_on_pages(client, place):
    client.force_login(place.sub_user)
    home = client.get("/accounts/")
    assert b"/staff/rounds/" in home.content
    response = client.post("/staff/rounds/new/", form(subdistrict=place.sub.pk))
    assert response.status_code == 302, response.content.decode()
    round_ = Round.objects.get()
    assert round_.subdistrict_id == place.sub.pk and round_.status == "draft"
    page = client.get(f"/staff/rounds/{round_.pk}/")
    assert page.status_code == 200 and place.committee.code in page.content.decode()
    assert place.other_committee.code not in page.content.decode()
    assert client.post(f"/staff/rounds/{round_.pk}/open/").status_code == 302
    round_.refresh_from_db()
    assert round_.status == "open"
    confirm = client.post(f"/staff/rounds/{round_.pk}/close/")
    assert confirm.status_code == 200 and b'name="confirm"' in confirm.content
    round_.refresh_from_db()
    assert round_.status == "open"  # not until confirmed
    assert client.post(f"/staff/rounds/{round_.pk}/close/", {"confirm": "yes"}).status_code == 302
    round_.refresh_from_db()
    assert round_.status == "closed"
    assert AuditLog.objects.filter(action="round.close", object_id=str(round_.pk)).exists()
    listing = client.get("/staff/rounds/")
    assert round_.name in listing.content.decode()


def test_refused_form_is_422_per_field(client, place):
    client.force_login(place.sub_user)
    bad = form(subdistrict=place.sub.pk, valid_until="2000-01-01")
    response = client.post("/staff/rounds/new/", bad)
    assert response.status_code == 422
    assert "valid_until" in response.context["form"].errors
    assert not Round.objects.exists()


def test_edit_page(client, place):
    round_ = RoundFactory(district=place.district, subdistrict=place.sub, status="draft")
    client.force_login(place.sub_user)
    assert client.get(f"/staff/rounds/{round_.pk}/edit/").status_code == 200
    data = form(name="改名")
    response = client.post(f"/staff/rounds/{round_.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()
    round_.refresh_from_db()
    assert round_.name == "改名"
    entry = AuditLog.objects.get(action="round.update")
    assert entry.after["name"] == "改名" and entry.before["name"] != "改名"


def test_committee_staff_refused_and_foreign_round_hidden(client, place):
    round_ = RoundFactory(district=place.district, subdistrict=place.other_sub)
    client.force_login(place.committee_user)
    assert client.get("/staff/rounds/").status_code == 403
    client.force_login(place.sub_user)
    assert client.get(f"/staff/rounds/{round_.pk}/").status_code == 404
    assert client.post(f"/staff/rounds/{round_.pk}/close/", {"confirm": "yes"}).status_code == 404
    round_.refresh_from_db()
    assert round_.status == "open"


def test_carried_first_on_the_round_form(client, place):
    earlier = RoundFactory(district=place.district, subdistrict=place.sub, status="closed")
    client.force_login(place.sub_user)
    data = form(
        subdistrict=place.sub.pk, policy="lottery", carry_over_from=earlier.pk, carried_first="on"
    )
    response = client.post("/staff/rounds/new/", data)
    assert response.status_code == 302, response.content.decode()
    round_ = Round.objects.exclude(pk=earlier.pk).get()
    assert round_.carried_first is True
    client.cookies["django_language"] = "en"
    page = client.get(f"/staff/rounds/{round_.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "carried households are drawn before the others" in page.content.decode()
