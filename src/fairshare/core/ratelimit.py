"""Rate limits on Django's cache: Redis when REDIS_URL is set, the database cache otherwise.

A fixed window per (bucket, key): the first hit of a window creates the counter with
``cache.add`` (atomic "set if absent" on every backend), later hits ``cache.incr`` it.
On Redis the hits of all scopes of one request are counted in one pipeline
(``SET key 0 EX window+1 NX`` then ``INCR``: atomic, so the limit is exact under any
concurrency; the same keys and integer values as ``cache.add``/``cache.incr``). The
database cache implements ``incr`` as read-then-write, so concurrent hits from
several processes may be under-counted by a few; that is acceptable for abuse
control on a single-machine deployment and exact once Redis is configured.

Limits are configured in settings (``RATELIMITS``, see the "ratelimit" block at the
end of settings.py) and can be switched off with ``RATELIMIT_ENABLED = False``.
Callers hash nothing themselves: keys (IP addresses, phone numbers) are hashed
here so the cache never holds a phone number in clear.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from redis import Redis

from fairshare.core.errors import ServiceError


class RateLimited(ServiceError):
    """Too many attempts in a time window: HTTP 429 with Retry-After."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after: int = 60) -> None:
        super().__init__(
            _("Too many attempts. Please wait a moment and try again."),
            extra={"retry_after": int(retry_after)},
        )
        self.retry_after = int(retry_after)


def _cache_key(bucket: str, key: str, window_seconds: int, window: int) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}|{key}".encode()).hexdigest()[:32]
    return f"rl:{bucket}:{window_seconds}:{window}:{digest}"


def ratelimit_hit(*, bucket: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit; True while the count in the current window is within ``limit``."""
    if not getattr(settings, "RATELIMIT_ENABLED", True) or not key:
        return True
    window_seconds = max(1, int(window_seconds))
    window = int(time.time()) // window_seconds
    cache_key = _cache_key(bucket, key, window_seconds, window)
    # +1 s of slack so a counter never vanishes right before its window ends.
    if cache.add(cache_key, 1, timeout=window_seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr: start a new count
            cache.add(cache_key, 1, timeout=window_seconds + 1)
            count = 1
    return count <= limit


_redis_clients: dict[int, Any] = {}


def _redis_client() -> Any | None:
    """The default cache's redis-py client when it is Django's RedisCache, else None.

    Kept per process: Django's RedisCache builds a new client object (≈0.2 ms of Python)
    on every call, three times per rate-limited request before this.
    """
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = _redis_clients.get(id(backend))
    if client is None:
        client = _redis_clients[id(backend)] = backend._cache.get_client(write=True)
    return client


# Per key: create the window's counter with its expiry only when absent, then count the
# hit. One server-side script: atomic, exact under any concurrency, one command to pack
# and one reply to parse (a 4-command pipeline cost ~3x the Python in the profile).
_HIT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'EX', ARGV[i], 'NX')
  counts[i] = redis.call('INCR', key)
end
return counts
"""
_scripts: dict[int, Any] = {}


def _hits_redis(client: Redis, hits: list[tuple[str, int]]) -> list[int]:
    """Count one hit on each (cache key, window) in ONE round trip; the new counts.

    The same keys and integer values as ``cache.add``/``cache.incr`` on Django's
    RedisCache (``SET key 0 EX window+1 NX`` then ``INCR key``, per key).
    """
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_HIT_SCRIPT)
    keys = [cache.make_and_validate_key(key) for key, _window in hits]
    counts = script(keys=keys, args=[window + 1 for _key, window in hits])
    return [int(n) for n in counts]


def retry_after_seconds(window_seconds: int) -> int:
    window_seconds = max(1, int(window_seconds))
    return window_seconds - int(time.time()) % window_seconds


def _limits(name: str) -> list[tuple[str, int, int]]:
    """The configured (scope, limit, window) triples of a named limit."""
    config: dict[str, Any] = getattr(settings, "RATELIMITS", {})
    return [(scope, int(lim), int(win)) for scope, (lim, win) in config.get(name, {}).items()]


def client_ip(request: HttpRequest) -> str:
    """The client address: core/clientip decides it (FAIRSHARE_TRUSTED_PROXY_HOPS)."""
    from fairshare.core.clientip import client_ip as trusted_client_ip

    return trusted_client_ip(request)


def ratelimit_enforce(
    *, name: str, request: HttpRequest | None = None, phone: str | None = None
) -> None:
    """Count a hit of the named limit per IP and per phone; raise RateLimited when over.

    Every configured scope is counted (so a blocked caller cannot reset one by
    hammering the other); the longest Retry-After of the exceeded ones is answered.
    """
    keys = {"ip": client_ip(request) if request is not None else "", "phone": phone or ""}
    exceeded: list[int] = []
    client = _redis_client() if getattr(settings, "RATELIMIT_ENABLED", True) else None
    if client is not None:
        todo = [
            (scope, limit, max(1, window))
            for scope, limit, window in _limits(name)
            if keys.get(scope, "")
        ]
        now_window = int(time.time())
        hits = [
            (
                _cache_key(f"{name}:{scope}", keys[scope], window, now_window // window),
                window,
            )
            for scope, _limit, window in todo
        ]
        counts = _hits_redis(client, hits) if hits else []
        for (_scope, limit, window), count in zip(todo, counts, strict=True):
            if count > limit:
                exceeded.append(retry_after_seconds(window))
        if exceeded:
            raise RateLimited(max(exceeded))
        return
    for scope, limit, window in _limits(name):
        key = keys.get(scope, "")
        if key and not ratelimit_hit(
            bucket=f"{name}:{scope}", key=key, limit=limit, window_seconds=window
        ):
            exceeded.append(retry_after_seconds(window))
    if exceeded:
        raise RateLimited(max(exceeded))
