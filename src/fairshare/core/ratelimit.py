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

When the shared store is unreachable (Redis down, refusing, timing out) the limits
**fail open to a local limiter**: the same fixed windows counted in this process's
memory (``_local``), with a warning logged at most once a minute per process, and
Redis tried again after ``RATELIMIT_SHARED_RETRY_SECONDS`` (a circuit breaker, so a
dead Redis costs one refused connection per process every few seconds, not one per
request). Why open and not closed: these limits only slow down abuse (a script
hammering registrations or lookups, SMS bombing); refusing every resident during a
Redis blip on the midnight opening would stop the very registrations the service
exists for, while a per-process count still bounds an abuser to (processes × limit).
Nothing that guards correctness lives in the cache: registrations, queue numbers,
idempotency records, phone codes and locks are in the database, whose outage answers
503 (core/dbguard.py). An operator who prefers fail-closed sets
``RATELIMIT_FAIL_OPEN = False``: the Redis error then propagates and the API root
answers a JSON 503 with Retry-After.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from redis import Redis
from redis.exceptions import RedisError

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
    return _hit(bucket, key, limit, window_seconds, local=False)


def _hit(bucket: str, key: str, limit: int, window_seconds: int, *, local: bool) -> bool:
    """One hit counted in the shared cache (or, when it is down or ``local``, here)."""
    window_seconds = max(1, int(window_seconds))
    window = int(time.time()) // window_seconds
    cache_key = _cache_key(bucket, key, window_seconds, window)
    if not local and shared_store.usable():
        try:
            count = _count(cache, cache_key, window_seconds)
        except SHARED_STORE_ERRORS as exc:
            if not getattr(settings, "RATELIMIT_FAIL_OPEN", True):
                raise
            shared_store.failed(exc)
        else:
            shared_store.recovered()
            return count <= limit
    return _count(_local, cache_key, window_seconds) <= limit


def _count(store: BaseCache, cache_key: str, window_seconds: int) -> int:
    """Count one hit of a window's counter in ``store``; the new count."""
    # +1 s of slack so a counter never vanishes right before its window ends.
    if store.add(cache_key, 1, timeout=window_seconds + 1):
        return 1
    try:
        return int(store.incr(cache_key))
    except ValueError:  # expired between add and incr: start a new count
        store.add(cache_key, 1, timeout=window_seconds + 1)
        return 1


# Errors of the shared store that mean "unreachable or unusable right now": redis-py's
# own (ConnectionError, TimeoutError, protocol and readonly-replica errors) and socket
# errors. Database-cache errors are not here: the database is needed anyway.
SHARED_STORE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)
# The local fallback: per process, in memory, bounded (culled like any LocMemCache).
_local = LocMemCache("fairshare-ratelimit-local", {"OPTIONS": {"MAX_ENTRIES": 50_000}})
log = logging.getLogger(__name__)


class SharedStoreState:
    """Circuit breaker of the shared counter store, per process, with rate-limited logs.

    After a failure the store is skipped for ``RATELIMIT_SHARED_RETRY_SECONDS`` (the
    local limiter counts meanwhile); the first use after that tries it again. One
    warning per ``RATELIMIT_WARN_EVERY_SECONDS`` at most (with the number of failures
    since the last one), and one line when the store answers again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_until = 0.0  # time.monotonic() before which the store is skipped
        self.down = False
        self.failures = 0  # since the last warning
        self.last_warning = float("-inf")

    def usable(self) -> bool:
        return not self.down or time.monotonic() >= self.down_until

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            self.down = True
            self.down_until = now + float(getattr(settings, "RATELIMIT_SHARED_RETRY_SECONDS", 5))
            self.failures += 1
            every = float(getattr(settings, "RATELIMIT_WARN_EVERY_SECONDS", 60))
            if now - self.last_warning < every:
                return
            failures, self.failures, self.last_warning = self.failures, 0, now
        log.warning(
            "rate-limit store unreachable (%s: %s); counting in this process only "
            "(%d failure(s) since the last warning)",
            type(exc).__name__,
            exc,
            failures,
        )

    def recovered(self) -> None:
        if not self.down:
            return
        with self._lock:
            was_down, self.down, self.failures = self.down, False, 0
            self.last_warning = float("-inf")
        if was_down:
            log.warning("rate-limit store reachable again; shared counting resumed")

    def reset(self) -> None:
        """Forget failures (tests; a settings change)."""
        with self._lock:
            self.down, self.down_until, self.failures = False, 0.0, 0
            self.last_warning = float("-inf")


shared_store = SharedStoreState()


_redis_clients: dict[int, tuple[Any, Any]] = {}


def _redis_client() -> Any | None:
    """The default cache's redis-py client when it is Django's RedisCache, else None.

    Kept per process: Django's RedisCache builds a new client object (≈0.2 ms of Python)
    on every call, three times per rate-limited request before this. Keyed by the
    backend object (checked by identity: a new backend after a settings change may
    reuse a freed one's id).
    """
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    entry = _redis_clients.get(id(backend))
    if entry is None or entry[0] is not backend:
        entry = _redis_clients[id(backend)] = (backend, backend._cache.get_client(write=True))
    return entry[1]


def reset_clients() -> None:
    """Forget the kept clients, the breaker and the local counts (CACHES changed; tests)."""
    _redis_clients.clear()
    _scripts.clear()
    shared_store.reset()
    _local.clear()


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
    if not getattr(settings, "RATELIMIT_ENABLED", True):
        return
    keys = {"ip": client_ip(request) if request is not None else "", "phone": phone or ""}
    client = _redis_client() if shared_store.usable() else None
    local = False
    if client is not None:
        try:
            exceeded = _enforce_redis(client, name, keys)
        except SHARED_STORE_ERRORS as exc:
            if not getattr(settings, "RATELIMIT_FAIL_OPEN", True):
                raise
            shared_store.failed(exc)
            local = True  # this request: straight to the local count
        else:
            shared_store.recovered()
            if exceeded:
                raise RateLimited(max(exceeded))
            return
    exceeded = [
        retry_after_seconds(window)
        for scope, limit, window in _limits(name)
        if keys.get(scope) and not _hit(f"{name}:{scope}", keys[scope], limit, window, local=local)
    ]
    if exceeded:
        raise RateLimited(max(exceeded))


def _enforce_redis(client: Redis, name: str, keys: dict[str, str]) -> list[int]:
    """Count the hits of every scope in one Redis round trip; the exceeded Retry-Afters."""
    todo = [
        (scope, limit, max(1, window)) for scope, limit, window in _limits(name) if keys.get(scope)
    ]
    now_window = int(time.time())
    hits = [
        (_cache_key(f"{name}:{scope}", keys[scope], window, now_window // window), window)
        for scope, _limit, window in todo
    ]
    counts = _hits_redis(client, hits) if hits else []
    return [
        retry_after_seconds(window)
        for (_scope, limit, window), count in zip(todo, counts, strict=True)
        if count > limit
    ]
