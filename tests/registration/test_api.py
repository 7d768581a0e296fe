from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.core.models import IdempotencyRecord
from fairshare.registration.models import Registration
from tests.factories import VoucherFactory
from tests.support.language import is_chinese_only

pytestmark = pytest.mark.django_db


def _post(client: Client, place, body=None, **headers):
    data = {
        "committee": "KJ01",
        "building": "12号",
        "room": "301",
        "name": "张三明",
        "phone": "13812345678",
    }
    data.update(body or {})
    return client.post(
        f"/api/v1/rounds/{place['round'].pk}/registrations",
        data,
        content_type="application/json",
        **headers,
    )


def test_register_then_same_household_conflict(client, place):
    created = _post(client, place)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["queue_number"] == 1 and body["status"] == "verified" and body["created"]
    again = _post(client, place)
    assert again.status_code == 200 and again.json()["ticket"] == body["ticket"]
    assert not again.json()["created"]
    other = _post(client, place, {"name": "李四", "phone": "13912345678"})
    assert other.status_code == 409
    assert other.json()["queue_number"] == 1 and other.json()["code"] == "already_registered"
    assert body["ticket"] not in other.content.decode()  # no ticket for another person


def test_building_without_suffix_and_room_with_suffix_are_found(client, place):
    assert _post(client, place, {"building": "12", "room": "301室"}).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"committee": "NOPE"}, "committee"),
        ({"building": "99号"}, "building"),
        ({"room": "999"}, "room"),
        ({"phone": "1381234567"}, "phone"),
        ({"name": ""}, "name"),
        ({"channel": "desk"}, "channel"),
    ],
)
def test_invalid_input_is_422_with_field_errors_in_one_language(client, place, body, field):
    response = _post(client, place, body)
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert field in errors and is_chinese_only(errors[field][0])  # never "中文 / English"
    assert not Registration.objects.exclude(status="void").exists()


def test_malformed_body_is_422_and_unknown_round_404(client, place):
    response = client.post(
        f"/api/v1/rounds/{place['round'].pk}/registrations", "{", content_type="application/json"
    )
    assert response.status_code == 422 and "__all__" in response.json()["errors"]
    missing = client.post(
        f"/api/v1/rounds/{place['round'].pk}/registrations",
        {"committee": "KJ01"},
        content_type="application/json",
    )
    assert missing.status_code == 422 and "phone" in missing.json()["errors"]
    assert _post(client, {"round": type("R", (), {"pk": 999999})}).status_code == 404


def test_idempotency_key_replays_the_first_answer(client, place):
    first = _post(client, place, HTTP_IDEMPOTENCY_KEY="k-1")
    second = _post(client, place, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Registration.objects.count() == 1 and IdempotencyRecord.objects.count() == 1
    changed = _post(client, place, {"name": "李四"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency_mismatch"


def test_staff_bearer_may_use_desk_channel_anonymous_may_not(client, place, staff_token):
    anon = _post(client, place, {"channel": "desk"})
    assert anon.status_code == 422
    staff = _post(
        client,
        place,
        {"channel": "desk", "id_checked": True},
        HTTP_AUTHORIZATION=f"Bearer {staff_token}",
    )
    assert staff.status_code == 201, staff.content
    assert Registration.objects.get().channel == "desk"
    bad = _post(client, place, {"channel": "desk"}, HTTP_AUTHORIZATION="Bearer nonsense")
    assert bad.status_code == 401


@pytest.mark.parametrize(
    "written_at, ok",
    [
        ("0436-04-05T15:39:19-20:52", False),  # PostgreSQL: "displacement out of range" 500
        ("2020-02-03T09:30:00+23:00", False),
        ("3151-12-03T01:59:43Z", False),
        ("a minute ago", True),  # negative control: a real sheet time
    ],
)
def test_a_written_time_people_cannot_mean_is_a_field_error(
    client, place, staff_token, written_at, ok
):
    if written_at == "a minute ago":
        written_at = (timezone.now() - timedelta(minutes=1)).isoformat()
    answer = _post(
        client,
        place,
        {"channel": "phone", "written_at": written_at},
        HTTP_AUTHORIZATION=f"Bearer {staff_token}",
    )
    if ok:
        assert answer.status_code == 201, answer.content
    else:
        assert answer.status_code == 422, answer.content
        assert "2000" in str(answer.json()["errors"]["written_at"])
        assert not Registration.objects.exists()


def test_status_lookup_needs_the_right_phone(client, place):
    ticket = _post(client, place).json()["ticket"]
    ok = client.get(f"/api/v1/registrations/{ticket.lower()}", {"phone": "138 1234 5678"})
    assert ok.status_code == 200
    answer = ok.json()
    assert answer.pop("state")["state"] == "waiting"  # the resident's one state
    assert answer == {
        "ticket": ticket,
        "queue_number": 1,
        "status": "verified",
        "committee": "KJ01",
        "round": place["round"].pk,
        "voucher": None,
    }
    wrong_phone = client.get(f"/api/v1/registrations/{ticket}", {"phone": "13900000000"})
    unknown = client.get("/api/v1/registrations/AAAAAAAAA", {"phone": "13812345678"})
    assert wrong_phone.status_code == unknown.status_code == 404
    assert wrong_phone.json() == unknown.json()


def test_status_shows_the_live_voucher_with_batch(client, place):
    ticket = _post(client, place).json()["ticket"]
    VoucherFactory(registration=Registration.objects.get())
    voucher = client.get(f"/api/v1/registrations/{ticket}", {"phone": "13812345678"}).json()[
        "voucher"
    ]
    assert voucher["status"] == "issued" and voucher["batch"]["unit_price"] == "12.50"
    assert voucher["batch"]["manufacturer"] and voucher["pharmacy"]


def test_registration_is_rate_limited_per_phone_with_retry_after(client, place, settings):
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {"register": {"phone": (2, 600)}, "status": {"ip": (1, 60)}}
    assert _post(client, place).status_code == 201
    assert _post(client, place).status_code == 200
    limited = _post(client, place)
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    client.get("/api/v1/registrations/AAAAAAAAA", {"phone": "13812345678"})
    assert client.get("/api/v1/registrations/X", {"phone": "1"}).status_code == 429


@pytest.mark.parametrize("round_id", ["0", "-1", "966581010484063392235520"])
def test_out_of_range_round_id_is_404_not_500(client, round_id):
    # Found by schemathesis: a round id beyond 64 bits overflowed the database driver.
    response = client.post(
        f"/api/v1/rounds/{round_id}/registrations",
        {"committee": "X", "building": "1", "room": "101", "name": "张三", "phone": "13812345678"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_a_keyed_refusal_is_stored_and_replayed(client, place):
    assert _post(client, place).status_code == 201
    other = {"name": "李四", "phone": "13912345678"}
    refused = _post(client, place, other, HTTP_IDEMPOTENCY_KEY="k-9")
    assert refused.status_code == 409
    record = IdempotencyRecord.objects.get(key="k-9")
    assert (record.status_code, record.body) == (409, refused.json())
    Registration.objects.update(status="void")  # a new run would now register...
    replay = _post(client, place, other, HTTP_IDEMPOTENCY_KEY="k-9")
    assert (replay.status_code, replay.json()) == (409, refused.json())  # ... the replay doesn't
    assert not Registration.objects.exclude(status="void").exists()


def test_the_key_is_scoped_per_caller(client, place, staff_token):
    assert _post(client, place, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    # The same key from a staff member is another caller's key: no "already used" mismatch.
    desk = _post(
        client,
        place,
        {"channel": "desk", "id_checked": True},
        HTTP_IDEMPOTENCY_KEY="k-1",
        HTTP_AUTHORIZATION=f"Bearer {staff_token}",
    )
    assert desk.status_code == 200, desk.content  # the household is already registered
    scopes = sorted(IdempotencyRecord.objects.values_list("scope", flat=True))
    assert len(scopes) == 2 and scopes[0] != scopes[1]
    route = ":POST:api/v1/rounds/<round_id>/registrations"
    assert all(scope.endswith(route) for scope in scopes), scopes
