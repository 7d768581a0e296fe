"""Database outages become a clean "temporarily unavailable, retry" (503), never a 500.

When PostgreSQL restarts, fails over or is unreachable, every query raises
``django.db.OperationalError`` / ``InterfaceError``. Without this module Django
answers 500 with an error page, and clients cannot tell an outage (retry later)
from a bug. ``DatabaseGuardMiddleware`` (first in ``MIDDLEWARE``) turns such an
error, wherever in the request it was raised, into:

* API paths (``/api/``): JSON ``{"detail": ..., "code": "unavailable"}``, status 503,
  ``Retry-After``;
* pages: a plain-text 503 page with ``Retry-After``.

Errors are caught in two ways: ``process_exception`` for errors raised in views
(the ninja API re-raises unknown errors; ``fairshare.api`` also maps them directly),
and a ``got_request_exception`` receiver that marks the request when an error is
raised in another middleware (sessions, authentication, lockout), so the 500 that
Django made from it is replaced. Nothing is retried here: the request may have
been a write, and the client decides. Django drops broken connections at the end
of the request (``CONN_HEALTH_CHECKS`` checks persistent ones before reuse), so the
same processes recover as soon as the database is back, without a restart.

Not every ``OperationalError`` is an outage: SQLite reports a missing table as
one. ``is_unavailable`` only accepts connection failures.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = (
    "The service is temporarily unavailable, please retry in a moment. 系统暂时不可用，请稍后重试。"
)
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
_MARK = "_fairshare_db_unavailable"


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


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": MESSAGE, "code": "unavailable"}, status=503
        )
    else:
        response = HttpResponse(
            MESSAGE + "\n", status=503, content_type="text/plain; charset=utf-8"
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


@receiver(got_request_exception, dispatch_uid="fairshare-dbguard")
def _mark_request(sender: object, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Sent by Django inside its exception handler, so sys.exc_info() is the error.
    exc = sys.exc_info()[1]
    if request is not None and is_unavailable(exc):
        setattr(request, _MARK, True)
        log.warning("database unavailable (%s): %s", request.path, exc)


class DatabaseGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except (OperationalError, InterfaceError) as exc:  # pragma: no cover - Django converts
            if not is_unavailable(exc):
                raise
            return unavailable_response(request)
        if getattr(request, _MARK, False) and response.status_code >= 500:
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if is_unavailable(exc):
            log.warning("database unavailable (%s): %s", request.path, exc)
            return unavailable_response(request)
        return None
