"""The hot-path shortcuts of issue 8 behave like the code they replace."""

from __future__ import annotations

import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache.backends.redis import RedisCache
from django.test import RequestFactory

import fairshare.core.ratelimit as rl
from fairshare.core.fastsql import insert_model, select_models
from fairshare.core.models import OutboxMessage
from fairshare.core.ratelimit import RateLimited, ratelimit_enforce

pytestmark = pytest.mark.django_db


REDIS_TEST_URL = os.environ.get("FAIRSHARE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_cache(monkeypatch):
    """A real Redis (the machine's, database 15) behind the rate limiter. CI has one;
    without it this fails (never skips) so the Lua path is always exercised there."""
    backend = RedisCache(REDIS_TEST_URL, {"KEY_PREFIX": f"t{os.getpid()}"})
    client = backend._cache.get_client(write=True)
    client.ping()
    monkeypatch.setattr(rl, "_redis_client", lambda: client)
    monkeypatch.setattr(rl, "cache", backend)
    yield backend, client
    for key in client.scan_iter(f"t{os.getpid()}:*"):
        client.delete(key)


def test_redis_rate_limit_counts_both_scopes_exactly(settings, redis_cache):
    backend, client = redis_cache
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {"register": {"ip": (10, 600), "phone": (2, 600)}}
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1")
    ratelimit_enforce(name="register", request=request, phone="13800000001")
    ratelimit_enforce(name="register", request=request, phone="13800000001")
    with pytest.raises(RateLimited) as exc:
        ratelimit_enforce(name="register", request=request, phone="13800000001")
    assert 1 <= exc.value.retry_after <= 600
    # another phone from the same address is still allowed (ip limit 10)
    ratelimit_enforce(name="register", request=request, phone="13800000002")
    keys = list(client.scan_iter(f"t{os.getpid()}:*"))
    assert len(keys) == 3  # one ip counter, two phone counters; hashed, never in clear
    assert not any(b"13800000001" in k or b"10.0.0.1" in k for k in keys)
    counts = sorted(int(client.get(k)) for k in keys)
    assert counts == [1, 3, 4]  # phone 2 (1 hit), phone 1 (3 hits), ip (4 hits)
    assert all(0 < client.ttl(k) <= 601 for k in keys)  # the window's expiry is set
    # the values are the ones Django's cache API reads and increments
    ip_key = rl._cache_key("register:ip", "10.0.0.1", 600, int(time.time()) // 600)
    assert backend.get(ip_key) == 4 and backend.incr(ip_key) == 5


def test_redis_rate_limit_is_exact_under_concurrency(settings, redis_cache):
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {"register": {"ip": (25, 600)}}
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.9")

    def hit(_i: int) -> bool:
        try:
            ratelimit_enforce(name="register", request=request)
        except RateLimited:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        allowed = sum(pool.map(hit, range(60)))
    assert allowed == 25


def test_fast_insert_and_select_match_the_orm():
    msg = OutboxMessage(kind="t", payload={"a": [1, "中"]}, household_id=None)
    assert insert_model(msg) and msg.pk
    orm = OutboxMessage.objects.get(pk=msg.pk)
    (fast,) = select_models(OutboxMessage, "id = %s", [msg.pk])
    for field in OutboxMessage._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(orm, field.attname), field.name
    assert fast.payload == {"a": [1, "中"]} and fast.available_at.tzinfo is not None


def test_sqlite_placeholder_conversion_cache_matches_django():
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper as Django

    from fairshare.core.sqlite_backend.base import SQLiteCursorWrapper as Cached

    queries = [
        "SELECT 1",
        "SELECT a FROM t WHERE b = %s AND c IN (%s, %s)",
        "SELECT '%%s' || %s, 100%% FROM t WHERE x LIKE '%%a%%' AND y = %s",
        "UPDATE t SET s = %s WHERE id = %s RETURNING %%s",
    ]
    raw = sqlite3.connect(":memory:")
    cached, django = Cached(raw), Django(raw)
    for query in queries * 2:  # the second pass answers from the cache
        assert cached.convert_query(query) == django.convert_query(query)
    named = "SELECT %(a)s, %(b)s"
    assert cached.convert_query(named, param_names=["a", "b"]) == "SELECT :a, :b"
