"""POST /rounds/{id}/registrations with an optional staff bearer (accounts.auth.optional_bearer):
no Authorization header is a resident; a header without a live token is 401, never a
silent fall-back to the resident's answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.accounts.models import ApiToken
from fairshare.registration.models import Registration

pytestmark = pytest.mark.django_db

BODY = {"committee": "KJ01", "building": "12号", "room": "301", "name": "张三明"}


def _post(client: Client, place, **headers):
    return client.post(
        f"/api/v1/rounds/{place['round'].pk}/registrations",
        {**BODY, "phone": "13812345678"},
        content_type="application/json",
        **headers,
    )


def test_no_authorization_header_registers_as_a_resident(client: Client, place):
    response = _post(client, place)
    assert response.status_code == 201, response.content
    assert Registration.objects.get().channel == "online"


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ", "Basic a2owMTpwdw==", "nonsense"])
def test_a_sent_but_unusable_authorization_header_is_401(client: Client, place, header):
    response = _post(client, place, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401, response.content
    assert not Registration.objects.exists()


def test_a_revoked_token_or_expired_access_is_401(client: Client, place, staff, staff_token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {staff_token}"}
    ApiToken.objects.filter(user=staff).update(revoked_at=timezone.now())
    assert _post(client, place, **auth).status_code == 401
    ApiToken.objects.filter(user=staff).update(revoked_at=None)
    staff.access_expires_at = timezone.now() - timedelta(minutes=1)
    staff.save()
    assert _post(client, place, **auth).status_code == 401
    assert not Registration.objects.exists()
