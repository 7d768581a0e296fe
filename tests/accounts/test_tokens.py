"""API tokens: listing, revocation by id, and tokens that stop working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.accounts.models import ApiToken
from fairshare.core.models import AuditLog
from tests.factories import CommitteeFactory, UserFactory

pytestmark = pytest.mark.django_db


def _token(client: Client, username: str, label: str = "") -> str:
    response = client.post(
        "/api/v1/auth/token",
        {"username": username, "password": "pw-for-tests-1", "label": label},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _auth(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def staff(db):
    return UserFactory(username="tok1", role="committee", committee=CommitteeFactory())


def test_list_own_tokens_and_revoke_by_id(client: Client, staff):
    first = _token(client, "tok1", "terminal")
    second = _token(client, "tok1", "laptop")
    other = UserFactory(username="tok2", role="committee", committee=staff.committee)
    foreign = _token(client, "tok2")
    listed = client.get("/api/v1/auth/tokens", **_auth(first)).json()
    assert [t["label"] for t in listed] == ["laptop", "terminal"]
    assert [t["current"] for t in listed] == [False, True]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    # Revoke the second token from the first.
    laptop_id = listed[0]["id"]
    revoked = client.delete(f"/api/v1/auth/tokens/{laptop_id}", **_auth(first))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/api/v1/auth/tokens", **_auth(second)).status_code == 401
    assert AuditLog.objects.filter(action="token.revoke", actor=staff).count() == 1
    # Another user's token id is unknown to me, and stays valid.
    foreign_id = ApiToken.objects.get(user=other).pk
    assert client.delete(f"/api/v1/auth/tokens/{foreign_id}", **_auth(first)).status_code == 404
    assert client.get("/api/v1/auth/tokens", **_auth(foreign)).status_code == 200


def test_token_of_deactivated_or_expired_user_stops_working(client: Client, staff):
    token = _token(client, "tok1")
    assert client.get("/api/v1/auth/tokens", **_auth(token)).status_code == 200
    staff.access_expires_at = timezone.now() - timedelta(seconds=1)
    staff.save()
    assert client.get("/api/v1/auth/tokens", **_auth(token)).status_code == 401
    staff.access_expires_at = timezone.now() + timedelta(days=1)
    staff.save()
    assert client.get("/api/v1/auth/tokens", **_auth(token)).status_code == 200
    staff.is_active = False
    staff.save()
    assert client.get("/api/v1/auth/tokens", **_auth(token)).status_code == 401


def test_expired_or_inactive_user_cannot_get_a_token_or_log_in(client: Client, staff):
    staff.access_expires_at = timezone.now() - timedelta(minutes=1)
    staff.save()
    response = client.post(
        "/api/v1/auth/token",
        {"username": "tok1", "password": "pw-for-tests-1"},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert not ApiToken.objects.filter(user=staff).exists()
    page = client.post("/accounts/login/", {"username": "tok1", "password": "pw-for-tests-1"})
    assert page.status_code == 200 and "_auth_user_id" not in client.session
    client.cookies["django_language"] = "en"
    assert (
        "expired"
        in client.post(
            "/accounts/login/", {"username": "tok1", "password": "pw-for-tests-1"}
        ).content.decode()
    )
    UserFactory(username="gone", is_active=False)
    response = client.post(
        "/api/v1/auth/token",
        {"username": "gone", "password": "pw-for-tests-1"},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_session_of_a_helper_ends_when_access_expires(client: Client, staff):
    client.force_login(staff)
    assert client.get("/accounts/").status_code == 200
    staff.access_expires_at = timezone.now() - timedelta(seconds=1)
    staff.save()
    response = client.get("/accounts/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_passwords_are_hashed_with_argon2():
    # conftest switches tests to MD5 for speed; the project's configured hasher is Argon2.
    from django.contrib.auth.hashers import make_password

    from fairshare import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.contrib.auth.hashers import Argon2PasswordHasher

    hashed = make_password("x", hasher=Argon2PasswordHasher())
    assert hashed.startswith("argon2$argon2id$")


def test_one_ip_trying_many_usernames_gets_no_token_without_a_challenge(client: Client, settings):
    settings.FAIRSHARE_LOGIN_IP_FAILURE_LIMIT = 4
    for name in ("ipa", "ipb", "ipc"):
        UserFactory(username=name, role="committee", committee=CommitteeFactory())
    for name in ("ipa", "ipa", "ipb", "ipb"):  # below the per-username limit of axes
        response = client.post(
            "/api/v1/auth/token",
            {"username": name, "password": "wrong"},
            content_type="application/json",
        )
        assert response.status_code == 401
    right = {"username": "ipc", "password": "pw-for-tests-1"}
    assert (
        client.post("/api/v1/auth/token", right, content_type="application/json").status_code == 429
    )
    # The page locks nobody: it asks the digits of a picture (tests/accounts/test_lockout.py).
    page = client.post("/accounts/login/", right)
    assert page.status_code == 200 and 'name="challenge"' in page.content.decode()
    other_ip = client.post(
        "/api/v1/auth/token", right, content_type="application/json", REMOTE_ADDR="10.1.2.3"
    )
    assert other_ip.status_code == 200
