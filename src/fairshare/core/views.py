"""Health check and the benchmark ping.

``/healthz`` checks each dependency the service needs, cheaply (a few milliseconds):

* ``database``: ``SELECT 1`` (PostgreSQL: under a ``statement_timeout`` of
  ``HEALTHZ_DB_TIMEOUT_MS``; connecting is bounded by the URL's ``connect_timeout``);
* ``cache``: ``PING`` when Redis is configured (bounded by ``FAIRSHARE_REDIS_TIMEOUT_MS``);
  the database cache is the database, so nothing more is asked of it;
* ``outbox``: the backlog of pending messages and the age of the oldest due one (counted
  up to 1000 on the status index; informative, never "down": the SMS worker reports
  its own failures).

200 ``{"status": "ok", ...}`` when all are up. A dependency the service can do without
for a while is ``degraded``, still 200: Redis down while the rate limits fail open
(``RATELIMIT_FAIL_OPEN``, they then count per process), so a load balancer keeps a node
that can still take registrations. 503 ``{"status": "unavailable", "down": [names], ...}``
when a needed one is down (the database; Redis too when the rate limits fail closed).
``down`` always names every dependency that did not answer. Errors are named by their
class only (no host names or addresses on a public URL); the details go to the log, one
line per dependency every few seconds at most (``dbguard.log_outage``), however often
the check is polled.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from fairshare.core import ratelimit
from fairshare.core.dbguard import log_outage
from fairshare.core.models import OutboxMessage

log = logging.getLogger(__name__)
OUTBOX_COUNT_CAP = 1000


def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, Any]] = {
        "database": _database(request),
        "cache": _cache(request),
    }
    if checks["database"]["ok"]:
        checks["outbox"] = _outbox()
    down = [name for name, check in checks.items() if not check["ok"]]
    optional = {"cache"} if getattr(settings, "RATELIMIT_FAIL_OPEN", True) else set()
    needed_down = [name for name in down if name not in optional]
    status = "unavailable" if needed_down else "degraded" if down else "ok"
    body = {"status": status, "down": down, **checks}
    response = JsonResponse(body, status=503 if needed_down else 200)
    response["Cache-Control"] = "no-store"
    if needed_down:
        response["Retry-After"] = "5"
    return response


def _database(request: HttpRequest) -> dict[str, Any]:
    check: dict[str, Any] = {"ok": True, "vendor": connection.vendor}
    postgres = connection.vendor == "postgresql"
    try:
        # PostgreSQL: SET LOCAL needs a transaction. Never on SQLite, where every
        # transaction is BEGIN IMMEDIATE: the check would queue for the write lock.
        with transaction.atomic() if postgres else nullcontext(), connection.cursor() as cursor:
            if postgres:
                timeout = int(getattr(settings, "HEALTHZ_DB_TIMEOUT_MS", 2000))
                cursor.execute(f"SET LOCAL statement_timeout = {timeout}")
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log_outage("database", request, exc)
        check.update(ok=False, error=type(exc).__name__)
    return check


def _cache(request: HttpRequest) -> dict[str, Any]:
    client = ratelimit._redis_client()
    if client is None:
        return {"ok": True, "backend": "database"}
    check: dict[str, Any] = {"ok": True, "backend": "redis"}
    try:
        client.ping()
    except ratelimit.SHARED_STORE_ERRORS as exc:
        log_outage("cache", request, exc)
        check.update(ok=False, error=type(exc).__name__)
    check["ratelimit"] = "shared" if ratelimit.shared_store.usable() else "local fallback"
    return check


def _outbox() -> dict[str, Any]:
    pending = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
    try:
        count = pending[:OUTBOX_COUNT_CAP].count()
        oldest = (
            pending.filter(available_at__lte=timezone.now())
            .order_by("available_at")
            .values_list("available_at", flat=True)
            .first()
        )
    except DatabaseError as exc:
        log.warning("healthz: outbox not readable: %s", exc)
        return {"ok": True, "error": type(exc).__name__}
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return {
        "ok": True,
        "pending": count,
        "pending_capped": count >= OUTBOX_COUNT_CAP,
        "oldest_due_seconds": round(age, 1),
    }


def ping(request: HttpRequest) -> JsonResponse:
    """Trivial endpoint (no database): the framework ceiling in benchmarks."""
    return JsonResponse({"ok": True})
