"""Outages of a dependency become a clean "temporarily unavailable, retry" (503), never a 500.

When PostgreSQL restarts, fails over or is unreachable, every query raises
``django.db.OperationalError`` / ``InterfaceError``; when Redis is unreachable,
redis-py raises its ``ConnectionError`` / ``TimeoutError``. Without this module Django
answers 500 with an HTML error page, and clients cannot tell an outage (retry later)
from a bug. ``DatabaseGuardMiddleware`` (first in ``MIDDLEWARE`` after the security
headers) turns such an error, wherever in the request it was raised, into:

* API paths (``/api/``): JSON ``{"detail": ..., "code": "unavailable"}`` in the
  request's language, status 503, ``Retry-After``;
* pages: the site's 503 page (``templates/503.html``, rendered without the request's
  context processors, which may need the database) with ``Retry-After``.

Any other error on an API path is answered as a JSON 500 (``code: server_error``) by
``handler500`` (core/error_views.py), after Django has logged it.

Errors are caught in two ways: ``process_exception`` for errors raised in views
(the ninja API re-raises unknown errors; ``fairshare.api`` also maps them directly),
and a ``got_request_exception`` receiver that marks the request when an error is
raised in another middleware (sessions, authentication, lockout), so the 500 that
Django made from it is replaced. Nothing is retried here: the request may have
been a write, and the client decides. Django drops broken connections at the end
of the request (``CONN_HEALTH_CHECKS`` checks persistent ones before reuse), and
redis-py reconnects on next use, so the same processes recover as soon as the
dependency is back, without a restart.

Not every ``OperationalError`` is an outage: SQLite reports a missing table as
one. ``is_unavailable`` only accepts connection failures. The rate limits do not
need Redis (they fall back to a local count, core/ratelimit.py); a Redis error only
gets here where a caller chose to fail closed.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = _("The service is temporarily unavailable. Please try again in a moment.")
# SQLSTATE classes/codes that mean "the server is not there right now".
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")
_UNAVAILABLE_TEXT = (
    "connection",
    "server closed",
    "terminating",
    "could not connect",
    "the database system is",
    "unable to open database file",
    "disk i/o error",
    "database is locked",
)
# redis-py's errors for "the server is not there / does not answer in time".
CACHE_OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError)
_MARK = "_fairshare_db_unavailable"
LOG_EVERY_SECONDS = 10.0  # one warning per dependency this often, not one per request
_log_lock = threading.Lock()
_last_logged: dict[str, float] = {}
_suppressed: dict[str, int] = {}


def is_unavailable(exc: BaseException | None) -> bool:
    """True for database errors that mean the database is unreachable or restarting."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__ or exc
    state = getattr(cause, "sqlstate", None) or ""
    if state:
        return state.startswith(_UNAVAILABLE_STATES)
    text = str(exc).lower()
    return any(part in text for part in _UNAVAILABLE_TEXT)


def outage_of(exc: BaseException | None) -> str | None:
    """The dependency whose outage ``exc`` reports ("database", "cache"), else None."""
    if is_unavailable(exc):
        return "database"
    if isinstance(exc, CACHE_OUTAGE_ERRORS):
        return "cache"
    return None


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON on the API, the site's 503 page elsewhere."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": str(MESSAGE), "code": "unavailable"},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = HttpResponse(_page(), status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _page() -> str:
    # No request: its context processors (user, messages) would query the database.
    try:
        return render_to_string("503.html", {"SITE_NAME": "Fairshare 公平配"})
    except Exception:  # a broken template must not turn the 503 back into a 500
        log.exception("the 503 page could not be rendered")
        return f"<!doctype html><title>503</title><p>{MESSAGE}</p>\n"


def log_outage(dependency: str, request: HttpRequest, exc: BaseException) -> None:
    """Warn of an outage at most every LOG_EVERY_SECONDS per dependency (per process)."""
    now = time.monotonic()
    with _log_lock:
        if now - _last_logged.get(dependency, float("-inf")) < LOG_EVERY_SECONDS:
            _suppressed[dependency] = _suppressed.get(dependency, 0) + 1
            return
        _last_logged[dependency] = now
        suppressed = _suppressed.pop(dependency, 0)
    log.warning(
        "%s unavailable (%s %s): %s; %d more such error(s) not logged",
        dependency,
        request.method,
        request.path,
        exc,
        suppressed,
    )


@receiver(got_request_exception, dispatch_uid="fairshare-dbguard")
def _mark_request(sender: object, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Sent by Django inside its exception handler, so sys.exc_info() is the error.
    exc = sys.exc_info()[1]
    dependency = outage_of(exc)
    if request is not None and exc is not None and dependency:
        setattr(request, _MARK, True)
        log_outage(dependency, request, exc)


class DatabaseGuardMiddleware:
    """Database or Redis outage anywhere in the request → 503 (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except (
            OperationalError,
            InterfaceError,
            *CACHE_OUTAGE_ERRORS,
        ) as exc:  # pragma: no cover - Django converts
            if not outage_of(exc):
                raise
            return unavailable_response(request)
        if getattr(request, _MARK, False) and response.status_code >= 500:
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        dependency = outage_of(exc)
        if dependency:
            log_outage(dependency, request, exc)
            return unavailable_response(request)
        return None
