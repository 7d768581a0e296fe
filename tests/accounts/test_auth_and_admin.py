import pytest
from django.test import Client

from fairshare.accounts.models import ApiToken
from tests.factories import CommitteeFactory, HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff_login(client: Client, username: str, password: str = "pw-for-tests-1"):
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.fixture
def two_committees():
    mine = CommitteeFactory()
    other = CommitteeFactory(subdistrict=mine.subdistrict, pharmacy=mine.pharmacy)
    HouseholdFactory.create_batch(3, building__committee=mine)
    HouseholdFactory.create_batch(2, building__committee=other)
    return mine, other


def test_token_roundtrip_and_revocation(client: Client):
    UserFactory(username="staff1")
    response = client.post(
        "/api/v1/auth/token",
        {"username": "staff1", "password": "pw-for-tests-1"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.filter(token_hash=ApiToken.hash(token)).exists()
    assert not ApiToken.objects.filter(token_hash=token).exists()  # only the hash is stored
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/token", **headers).status_code == 204
    assert client.delete("/api/v1/auth/token", **headers).status_code == 401


def test_token_wrong_password_is_401_then_lockout(client: Client, settings):
    UserFactory(username="staff2")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(
            "/api/v1/auth/token",
            {"username": "staff2", "password": "bad"},
            content_type="application/json",
        )
        assert response.status_code == 401
    response = client.post(
        "/api/v1/auth/token",
        {"username": "staff2", "password": "bad"},
        content_type="application/json",
    )
    assert response.status_code == 429
    # Even the right password is refused while locked out.
    response = client.post(
        "/api/v1/auth/token",
        {"username": "staff2", "password": "pw-for-tests-1"},
        content_type="application/json",
    )
    assert response.status_code == 429


def test_token_request_validation_is_per_field(client: Client):
    response = client.post("/api/v1/auth/token", {"username": ""}, content_type="application/json")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"username", "password"}
    assert errors["password"] == ["此项必填。"]  # one language at a time: Chinese first
    client.cookies["django_language"] = "en"
    english = client.post("/api/v1/auth/token", {"username": ""}, content_type="application/json")
    assert english.json()["errors"]["password"] == ["This field is required."]


def test_committee_staff_sees_only_own_households_in_admin(client: Client, two_committees):
    mine, other = two_committees
    UserFactory(username="c1", role="committee", committee=mine)
    assert staff_login(client, "c1").status_code == 302
    response = client.get("/admin/community/household/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3
    foreign = other.households.first()
    assert client.get(f"/admin/community/household/{foreign.pk}/change/").status_code in (302, 404)
    own = mine.households.first()
    assert client.get(f"/admin/community/household/{own.pk}/change/").status_code == 200


def test_expired_helper_sees_nothing(client: Client, two_committees):
    from datetime import timedelta

    from django.utils import timezone

    mine, _ = two_committees
    UserFactory(
        username="h1",
        role="committee",
        committee=mine,
        access_expires_at=timezone.now() - timedelta(minutes=1),
    )
    staff_login(client, "h1")
    assert client.get("/admin/community/household/").status_code in (302, 403)


def test_page_login_lockout_after_repeated_failures(client: Client, settings):
    UserFactory(username="c9")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert staff_login(client, "c9", "wrong").status_code == 200
    assert staff_login(client, "c9", "wrong").status_code == 429
    locked = staff_login(client, "c9")  # the right password, still locked out
    assert locked.status_code == 429
    assert "15" in locked.content.decode()
