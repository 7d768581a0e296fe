"""Redis or the database unreachable: residents never get a bare HTML 500.

Redis down (REDIS_URL pointing at a closed port): registrations and status lookups go
on with a per-process rate limiter and one logged warning; ``/healthz`` says 200
"degraded" and names the cache (503 when the rate limits fail closed). The database down
(every query on the connection raising OperationalError, as a refused connection does):
API paths answer a JSON 503 with Retry-After, also when the error happens in a
middleware; pages answer the site's 503 page. The real API and pages, the real models.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings

import fairshare.core.ratelimit as rl
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    RoundFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused
REAL_REDIS_URL = os.environ.get("FAIRSHARE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_caches(url: str) -> dict[str, dict[str, object]]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"t{os.getpid()}",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def redis_down(settings) -> Iterator[None]:
    settings.RATELIMIT_ENABLED = True
    with override_settings(CACHES=_redis_caches(CLOSED_PORT_URL)):
        rl.reset_clients()
        yield
    rl.reset_clients()


@pytest.fixture
def real_redis(settings) -> Iterator[None]:
    settings.RATELIMIT_ENABLED = True
    with override_settings(CACHES=_redis_caches(REAL_REDIS_URL)):
        rl.reset_clients()
        client = rl._redis_client()
        yield
        for key in client.scan_iter(f"t{os.getpid()}:*"):
            client.delete(key)
    rl.reset_clients()


@pytest.fixture
def place(db):
    committee = CommitteeFactory(code="KJ01", name="图们居委会")
    building = BuildingFactory(committee=committee, label="12号")
    homes = []
    for room, name in (("301", "张三明"), ("302", "李四")):
        household = HouseholdFactory(building=building, room=room)
        MemberFactory(household=household, name=name)
        homes.append((room, name))
    round_obj = RoundFactory(district=committee.subdistrict.district)
    return {"committee": committee, "round": round_obj, "homes": homes}


def _register(client: Client, place, home: int = 0, phone: str = "13812345678"):
    room, name = place["homes"][home]
    body = {"committee": "KJ01", "building": "12号", "room": room, "name": name, "phone": phone}
    return client.post(
        f"/api/v1/rounds/{place['round'].pk}/registrations", body, content_type="application/json"
    )


def _assert_json_503(response) -> dict:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert int(response["Retry-After"]) > 0
    return response.json()


def _warnings(caplog, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


# --- Redis down --------------------------------------------------------------------------


def test_redis_down_registration_and_status_lookup_go_on(redis_down, place, settings, caplog):
    settings.RATELIMIT_SHARED_RETRY_SECONDS = 0  # try Redis on every request: worst case
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.WARNING, logger="fairshare.core.ratelimit"):
        created = _register(client, place)
        again = _register(client, place)
        other = _register(client, place, home=1, phone="13912345678")
        ticket = created.json()["ticket"]
        status = client.get(f"/api/v1/registrations/{ticket}", {"phone": "13812345678"})
    assert created.status_code == 201 and created.json()["queue_number"] == 1, created.content
    assert again.status_code == 200 and again.json()["ticket"] == ticket
    assert other.status_code == 201 and other.json()["queue_number"] == 2
    assert status.status_code == 200 and status.json()["queue_number"] == 1
    # Four requests, each failing to reach Redis: one warning, not one per request.
    warnings = _warnings(caplog, "rate-limit store unreachable")
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert rl.shared_store.failures == 3  # counted for the next warning


def test_redis_down_the_local_limiter_still_limits(redis_down, place, settings):
    settings.RATELIMITS = {"register": {"phone": (2, 600)}, "status": {"ip": (2, 60)}}
    client = Client(raise_request_exception=False)
    assert _register(client, place).status_code == 201
    assert _register(client, place).status_code == 200
    limited = _register(client, place)
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert limited.json()["code"] == "rate_limited"
    for _ in range(2):
        client.get("/api/v1/registrations/AAAAAAAAA", {"phone": "13812345678"})
    assert client.get("/api/v1/registrations/AAAAAAAAA", {"phone": "1"}).status_code == 429


def test_redis_down_fail_closed_is_a_json_503_in_the_users_language(redis_down, place, settings):
    settings.RATELIMIT_FAIL_OPEN = False
    client = Client(raise_request_exception=False)
    body = _assert_json_503(_register(client, place))
    assert body == {"code": "unavailable", "detail": "系统暂时不可用，请稍后重试。"}
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    status = client.get("/api/v1/registrations/AAAAAAAAA", {"phone": "13812345678"})
    assert _assert_json_503(status)["detail"] == (
        "The service is temporarily unavailable. Please try again in a moment."
    )


def test_redis_down_healthz_is_degraded_naming_the_cache(redis_down):
    response = Client().get("/healthz")
    assert response.status_code == 200  # the node still registers: keep it in rotation
    body = response.json()
    assert body["status"] == "degraded" and body["down"] == ["cache"]
    assert body["cache"] == {
        "ok": False,
        "backend": "redis",
        "error": "ConnectionError",
        "ratelimit": "shared",
    }
    assert body["database"]["ok"] and body["outbox"]["pending"] == 0
    assert "127.0.0.1" not in response.content.decode()  # no addresses on a public URL


def test_redis_down_healthz_is_503_when_the_limits_fail_closed(redis_down, settings):
    settings.RATELIMIT_FAIL_OPEN = False
    body = _assert_json_503(Client().get("/healthz"))
    assert body["status"] == "unavailable" and body["down"] == ["cache"]


def test_real_redis_healthz_ok_and_limits_shared(real_redis, place):
    response = Client().get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["down"] == []
    assert body["cache"] == {"ok": True, "backend": "redis", "ratelimit": "shared"}
    assert _register(Client(), place).status_code == 201
    assert not rl.shared_store.down
    assert rl._local.get(rl._cache_key("register:phone", "13812345678", 600, 0)) is None


def test_redis_back_resumes_shared_counting(redis_down, place, settings, caplog):
    settings.RATELIMIT_SHARED_RETRY_SECONDS = 0
    assert _register(Client(), place).status_code == 201
    assert rl.shared_store.down
    with (
        override_settings(CACHES=_redis_caches(REAL_REDIS_URL)),
        caplog.at_level(logging.WARNING, logger="fairshare.core.ratelimit"),
    ):
        rl._redis_clients.clear()  # the new backend's client; the breaker state stays
        assert _register(Client(), place, home=1, phone="13912345678").status_code == 201
        assert not rl.shared_store.down
        assert _warnings(caplog, "reachable again")
        client = rl._redis_client()
        for key in client.scan_iter(f"t{os.getpid()}:*"):
            client.delete(key)


def test_redis_down_in_a_middleware_is_a_503_json_on_the_api(redis_down, settings, place):
    # Django's per-site cache reads the dead Redis in a middleware, before any view,
    # outside ninja's handlers.
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.cache.FetchFromCacheMiddleware"]
    client = Client(raise_request_exception=False)
    assert _assert_json_503(client.get("/api/v1/rounds"))["code"] == "unavailable"
    page = client.get("/")
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")
    assert "系统暂时不可用" in page.content.decode()


def test_an_unexpected_error_on_an_api_path_is_a_json_500(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("fairshare.community.api.committee_list", boom)
    response = Client(raise_request_exception=False).get("/api/v1/committees")
    assert response.status_code == 500 and response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "server_error", "detail": "内部错误，请稍后重试。"}


# --- database down -----------------------------------------------------------------------


def _refuse(execute, sql, params, many, context):
    raise OperationalError(
        'connection to server at "127.0.0.1", port 5432 failed: Connection refused'
    )


def test_database_down_on_an_api_path_is_a_json_503(place, caplog):
    client = Client(raise_request_exception=False)
    with (
        connection.execute_wrapper(_refuse),
        caplog.at_level(logging.WARNING, logger="fairshare.core.dbguard"),
    ):
        registration = _register(client, place)
        status = client.get("/api/v1/registrations/AAAAAAAAA", {"phone": "13812345678"})
        Client().get("/healthz")
    assert len(_warnings(caplog, "database unavailable")) <= 1  # not one line per request
    for response in (registration, status):
        assert _assert_json_503(response) == {
            "code": "unavailable",
            "detail": "系统暂时不可用，请稍后重试。",
        }


def test_database_down_in_a_middleware_on_an_api_path_is_a_json_503(place):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(role="committee", committee=place["committee"]))
    with connection.execute_wrapper(_refuse):
        # The session is loaded by the access-expiry middleware, before any view.
        response = client.get("/api/v1/rounds")
    assert _assert_json_503(response)["code"] == "unavailable"


def test_database_down_pages_get_the_site_503_page(place, settings):
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(_refuse):
        page = client.get("/")
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        english = client.get("/")
    assert page.status_code == 503 and int(page["Retry-After"]) > 0
    assert page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "系统暂时不可用，请稍后重试。" in text and 'href="/"' in text
    assert "Please try again in a moment." not in text  # one language at a time
    assert "Please try again in a moment." in english.content.decode()


def test_database_down_healthz_is_503_naming_the_database():
    with connection.execute_wrapper(_refuse):
        response = Client().get("/healthz")
    body = _assert_json_503(response)
    assert body["status"] == "unavailable" and body["down"] == ["database"]
    assert body["database"] == {
        "ok": False,
        "vendor": connection.vendor,
        "error": "OperationalError",
    }
    assert "outbox" not in body and "5432" not in response.content.decode()


def test_healthz_ok_reports_each_dependency(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["down"] == []
    assert body["database"] == {"ok": True, "vendor": connection.vendor}
    assert body["cache"] == {"ok": True, "backend": "database"}
    assert body["outbox"] == {
        "ok": True,
        "pending": 0,
        "pending_capped": False,
        "oldest_due_seconds": 0.0,
    }
