"""The JSON API under /api/v1/. Each app contributes a router from its ``api`` module."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from fairshare.accounts.api import router as accounts_router
from fairshare.allocation.api import router as allocation_router
from fairshare.allocation.round_api import router as round_manage_router
from fairshare.community.api import router as community_router
from fairshare.core.api_errors import (
    localized,
    parser_error_body,
    service_error_body,
    validation_error_body,
)
from fairshare.core.dbguard import (
    CACHE_OUTAGE_ERRORS,
    is_unavailable,
    log_outage,
    unavailable_response,
)
from fairshare.core.errors import ServiceError
from fairshare.core.idempotency import IdempotencyMismatch
from fairshare.core.locking import Busy
from fairshare.core.ratelimit import RateLimited
from fairshare.pharmacy.api import router as pharmacy_router
from fairshare.registration.api import router as registration_router
from fairshare.transparency.api import router as transparency_router

api = NinjaAPI(
    title="Fairshare API",
    version="1",
    description="Community reservation and rationing: registrations, vouchers, pharmacies, "
    "public boards. Staff calls send `Authorization: Bearer <token>` from POST /auth/token.",
    urls_namespace="api",
    docs_url=None,  # the bundled docs page loads assets from a CDN; openapi.json is served
)


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, validation_error_body(exc.errors), status=422)


@api.exception_handler(ServiceError)
def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return api.create_response(request, service_error_body(exc), status=exc.status_code)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = api.create_response(request, service_error_body(exc), status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Busy)
def _busy(request: HttpRequest, exc: Busy) -> HttpResponse:
    response = api.create_response(
        request, {"detail": localized(exc.message), "code": "busy"}, status=503
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _db_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A database outage answers 503 "retry"; any other database error stays a 500.
    if not is_unavailable(exc):
        raise exc
    log_outage("database", request, exc)
    return unavailable_response(request)


@api.exception_handler(IdempotencyMismatch)
def _idem(request: HttpRequest, exc: IdempotencyMismatch) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": _("Idempotency-Key was already used for a different request."),
            "code": "idempotency_mismatch",
        },
        status=422,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """django-ninja's own refusals, whose texts are English, in the user's language: an
    unparsable body is invalid input like any other (422, per-field shape); a session
    call without its CSRF token is 403."""
    body = parser_error_body(exc)
    if body is not None:
        return api.create_response(request, body, status=422)
    detail, code = {
        400: (_("The request could not be read."), "bad_request"),
        403: (_("The security check failed; reload the page and try again."), "csrf"),
    }.get(exc.status_code, (str(exc), "error"))
    return api.create_response(request, {"detail": detail, "code": code}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def _unauth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": _("Authentication required."), "code": "unauthenticated"},
        status=401,
    )


# --- dependency outages: JSON 503 with Retry-After (core/dbguard.py) ---
# The database's are answered by _db_unavailable above. Redis errors reach the API only
# where a caller fails closed (the rate limits fall back to a local count unless
# RATELIMIT_FAIL_OPEN is off); the answer is the same.
def _cache_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    log_outage("cache", request, exc)
    return unavailable_response(request)


for _outage in CACHE_OUTAGE_ERRORS:
    api.exception_handler(_outage)(_cache_unavailable)
# --- end of dependency outages ---


api.add_router("/auth", accounts_router)
api.add_router("/", round_manage_router)
api.add_router("/", community_router)
api.add_router("/", registration_router)
api.add_router("/", allocation_router)
api.add_router("/", pharmacy_router)
api.add_router("/", transparency_router)
