"""A round's ``desk_id_check_required`` is set like the other round fields (API, page)."""

from __future__ import annotations

import json

import pytest

from fairshare.rounds.models import Round
from tests.factories import RoundFactory
from tests.rounds.conftest import bearer_for
from tests.rounds.test_pages import form

pytestmark = pytest.mark.django_db


def test_api_sets_and_shows_desk_id_check(client, place):
    round_ = RoundFactory(district=place.district, subdistrict=place.sub, status="draft")
    url = f"/api/v1/rounds/{round_.pk}"
    body = json.dumps({"desk_id_check_required": True})
    auth = bearer_for(place.sub_user)
    response = client.patch(url, body, content_type="application/json", **auth)
    assert response.status_code == 200, response.content
    assert response.json()["desk_id_check_required"] is True
    round_.refresh_from_db()
    assert round_.desk_id_check_required is True
    public = client.get("/api/v1/rounds").json()
    assert next(r for r in public if r["id"] == round_.pk)["desk_id_check_required"] is True


def test_round_page_sets_desk_id_check(client, place):
    round_ = RoundFactory(district=place.district, subdistrict=place.sub, status="draft")
    client.force_login(place.sub_user)
    response = client.post(f"/staff/rounds/{round_.pk}/edit/", form(desk_id_check_required="on"))
    assert response.status_code == 302, response.content.decode()
    assert Round.objects.get(pk=round_.pk).desk_id_check_required is True
    response = client.post(f"/staff/rounds/{round_.pk}/edit/", form())  # unticked
    assert Round.objects.get(pk=round_.pk).desk_id_check_required is False
