"""GET /stats/rounds/{id} with an optional staff bearer (accounts.auth.optional_bearer): no
Authorization header is the public answer; a header without a live token is 401 (before,
a bad token was silently treated as a public caller)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.accounts.models import ApiToken
from tests.factories import UserFactory
from tests.transparency.factories import board_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def stats_url():
    world = board_world(households_per_building=4, buildings=1)
    return f"/api/v1/stats/rounds/{world.round.pk}?committee={world.committee.code}", world


def test_no_authorization_header_gets_the_public_figures(client: Client, stats_url):
    url, _world = stats_url
    response = client.get(url)
    assert response.status_code == 200
    assert response.json()["returnees"] is None and response.json()["registered"] > 0


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ", "Basic a2owMTpwdw==", "nonsense"])
def test_a_sent_but_unusable_authorization_header_is_401(client: Client, stats_url, header):
    url, _world = stats_url
    assert client.get(url, HTTP_AUTHORIZATION=header).status_code == 401


def test_a_revoked_token_or_expired_access_is_401(client: Client, stats_url):
    url, world = stats_url
    staff = UserFactory(role="committee", committee=world.committee)
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(user=staff, token_hash=ApiToken.hash(raw))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get(url, **auth).json()["returnees"] == 0  # live: the staff figures
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert client.get(url, **auth).status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)
    staff.access_expires_at = timezone.now() - timedelta(minutes=1)
    staff.save()
    assert client.get(url, **auth).status_code == 401
