"""The JSON API under /api/v1/. Each app contributes a router from its ``api`` module."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from fairshare.accounts.api import router as accounts_router
from fairshare.allocation.api import router as allocation_router
from fairshare.community.api import router as community_router
from fairshare.core.api_errors import (
    bilingual,
    parser_error_body,
    service_error_body,
    validation_error_body,
)
from fairshare.core.dbguard import is_unavailable, unavailable_response
from fairshare.core.errors import ServiceError
from fairshare.core.idempotency import IdempotencyMismatch
from fairshare.core.locking import Busy
from fairshare.core.ratelimit import RateLimited
from fairshare.pharmacy.api import router as pharmacy_router
from fairshare.registration.api import router as registration_router
from fairshare.rounds.api import router as rounds_router
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


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # An unparsable body is invalid input like any other: 422 in the same shape.
    body = parser_error_body(exc)
    if body is not None:
        return api.create_response(request, body, status=422)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


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
        request, {"detail": bilingual(exc.message), "code": "busy"}, status=503
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _db_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A database outage answers 503 "retry"; any other database error stays a 500.
    if not is_unavailable(exc):
        raise exc
    return unavailable_response(request)


@api.exception_handler(IdempotencyMismatch)
def _idem(request: HttpRequest, exc: IdempotencyMismatch) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": "Idempotency-Key was already used for a different request. "
            "该幂等键已用于另一个请求。",
            "code": "idempotency_mismatch",
        },
        status=422,
    )


@api.exception_handler(AuthenticationError)
def _unauth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": "Authentication required. 需要登录。", "code": "unauthenticated"},
        status=401,
    )


api.add_router("/auth", accounts_router)
api.add_router("/", rounds_router)
api.add_router("/", community_router)
api.add_router("/", registration_router)
api.add_router("/", allocation_router)
api.add_router("/", pharmacy_router)
api.add_router("/", transparency_router)
