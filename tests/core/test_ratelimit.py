from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from fairshare.core.ratelimit import RateLimited, ratelimit_enforce, ratelimit_hit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_fixed_window_counts_per_key(settings):
    settings.RATELIMIT_ENABLED = True
    hits = [ratelimit_hit(bucket="t", key="a", limit=3, window_seconds=600) for _ in range(5)]
    assert hits == [True, True, True, False, False]
    assert ratelimit_hit(bucket="t", key="b", limit=3, window_seconds=600)  # other key
    assert ratelimit_hit(bucket="u", key="a", limit=3, window_seconds=600)  # other bucket


def test_window_rolls_over(settings, monkeypatch):
    import fairshare.core.ratelimit as rl

    settings.RATELIMIT_ENABLED = True
    import time
    import types

    now = [time.time() // 60 * 60 + 1]
    monkeypatch.setattr(rl, "time", types.SimpleNamespace(time=lambda: now[0]))
    assert ratelimit_hit(bucket="t", key="a", limit=1, window_seconds=60)
    assert not ratelimit_hit(bucket="t", key="a", limit=1, window_seconds=60)
    now[0] += 60
    assert ratelimit_hit(bucket="t", key="a", limit=1, window_seconds=60)


def test_disabled_never_limits(settings):
    settings.RATELIMIT_ENABLED = False
    assert all(ratelimit_hit(bucket="t", key="a", limit=1, window_seconds=60) for _ in range(5))


def test_keys_are_not_stored_in_clear(settings):
    settings.RATELIMIT_ENABLED = True
    from fairshare.core.ratelimit import _cache_key

    assert "13812345678" not in _cache_key("sms", "13812345678", 60, 1)


def test_enforce_per_ip_and_phone_raises_429_with_retry_after(settings):
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {"register": {"ip": (3, 600), "phone": (2, 600)}}
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1")
    ratelimit_enforce(name="register", request=request, phone="13812345678")
    ratelimit_enforce(name="register", request=request, phone="13812345678")
    with pytest.raises(RateLimited) as exc:
        ratelimit_enforce(name="register", request=request, phone="13812345678")
    assert exc.value.status_code == 429 and 1 <= exc.value.retry_after <= 600
    # Another phone from the same IP: the IP count (now 4 > 3) is over.
    with pytest.raises(RateLimited):
        ratelimit_enforce(name="register", request=request, phone="13912345678")
    other_ip = RequestFactory().post("/", REMOTE_ADDR="10.0.0.2")
    ratelimit_enforce(name="register", request=other_ip, phone="13712345678")


# --- the client address of the limits (core/clientip) ---

PROXIES_ADDED = {0: [], 1: ["203.0.113.9"], 2: ["203.0.113.9", "10.0.0.1"]}


def _forwarded(hops: int, spoof: str) -> dict[str, str]:
    chain = ", ".join([spoof, *PROXIES_ADDED[hops]])
    return {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": chain}


@pytest.mark.parametrize("hops", [0, 1, 2])
def test_varying_the_leftmost_forwarded_for_does_not_reset_the_ip_limit(settings, hops):
    settings.RATELIMIT_ENABLED = True
    settings.TRUSTED_PROXY_HOPS = hops
    settings.RATELIMITS = {"register": {"ip": (2, 600)}}
    for spoof in ("1.1.1.1", "1.1.1.2"):
        ratelimit_enforce(
            name="register", request=RequestFactory().post("/", **_forwarded(hops, spoof))
        )
    with pytest.raises(RateLimited):
        ratelimit_enforce(
            name="register", request=RequestFactory().post("/", **_forwarded(hops, "1.1.1.3"))
        )
    # A different real client (the entry the proxies vouch for) has its own count.
    other = {**_forwarded(hops, "1.1.1.4"), "REMOTE_ADDR": "10.0.0.3"}
    if hops:
        other["HTTP_X_FORWARDED_FOR"] = other["HTTP_X_FORWARDED_FOR"].replace(
            "203.0.113.9", "203.0.113.10"
        )
    ratelimit_enforce(name="register", request=RequestFactory().post("/", **other))


@pytest.mark.parametrize("hops", [0, 1, 2])
def test_registration_endpoint_limit_holds_against_spoofed_forwarded_for(client, settings, hops):
    from tests.factories import BuildingFactory, CommitteeFactory, HouseholdFactory, RoundFactory

    settings.RATELIMIT_ENABLED = True
    settings.TRUSTED_PROXY_HOPS = hops
    settings.RATELIMITS = {"register": {"ip": (2, 600), "phone": (100, 600)}}
    committee = CommitteeFactory(code="KJ01")
    building = BuildingFactory(committee=committee, label="12号")
    round_obj = RoundFactory(district=committee.subdistrict.district)
    statuses = []
    for n, spoof in enumerate(["1.1.1.1", "1.1.1.2", "1.1.1.3"]):
        HouseholdFactory(building=building, room=f"30{n}")
        body = {"committee": "KJ01", "building": "12号", "room": f"30{n}", "name": "张三明"}
        response = client.post(
            f"/api/v1/rounds/{round_obj.pk}/registrations",
            {**body, "phone": f"1381234567{n}"},
            content_type="application/json",
            **_forwarded(hops, spoof),
        )
        statuses.append(response.status_code)
    assert statuses == [201, 201, 429]
