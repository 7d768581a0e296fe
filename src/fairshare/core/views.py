"""Health check and the benchmark ping.

``/healthz`` checks each dependency the service needs, cheaply (a few milliseconds):

* ``database``: ``SELECT 1`` (PostgreSQL: under a ``statement_timeout`` of
  ``HEALTHZ_DB_TIMEOUT_MS``; connecting is bounded by the URL's ``connect_timeout``);
* ``cache``: ``PING`` when Redis is configured (bounded by ``FAIRSHARE_REDIS_TIMEOUT_MS``);
  the database cache is the database, so nothing more is asked of it;
* ``outbox``: the backlog of pending messages and the age of the oldest due one (counted
  up to 1000 on the status index; informative, never "down": the SMS worker reports
  its own failures).

200 ``{"status": "ok", ...}`` when all are up; 503 ``{"status": "unavailable", "down":
[names], ...}`` otherwise. Errors are named by their class only (no host names or
addresses on a public URL); the details go to the log, one line per dependency every
few seconds at most (``dbguard.log_outage``), however often the check is polled. A load
balancer that should keep serving registrations through a Redis outage (the rate limits
then count per process) can look at ``down`` instead of the status code.
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
    body = {"status": "unavailable" if down else "ok", "down": down, **checks}
    response = JsonResponse(body, status=503 if down else 200)
    response["Cache-Control"] = "no-store"
    if down:
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
