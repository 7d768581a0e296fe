"""The write endpoints' plumbing, written once: ``@write_endpoint``.

A write endpoint is a schema plus one service call. Its function does the reads the call
needs (they run before the write transaction, and their refusals are answered by the
API root's exception handlers) and returns the write operation: a function without
arguments that calls the service and returns ``(status, JSON body)``, the body plain JSON
(dates as text: a keyed answer is stored as it is). The decorator

* answers a retried request that carries an ``Idempotency-Key`` header with the first
  answer (``core/idempotency.py``), the key scoped to the caller and the route, the
  request fingerprinted by the endpoint's arguments (path, query and body);
* with ``group_commit=True`` lets the operation share its COMMIT with other requests'
  on SQLite (``core/groupcommit.py``), the operation and its idempotency record in one
  transaction; the hot paths (registration, redemption) use it;
* runs the operation in this request's language: a group-commit unit may run on another
  request's thread;
* turns a ``ServiceError`` of the operation into its status and ``service_error_body``,
  so a refusal is stored and replayed like a success (``RateLimited`` is not: it stays
  an error, answered 429 by the API root, and a retry runs again);
* builds the response: JSON (UTF-8, not ASCII-escaped) with the status the operation
  chose; 204 has no body.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from pydantic import BaseModel

from fairshare.core import groupcommit
from fairshare.core.api_errors import service_error_body
from fairshare.core.errors import ServiceError
from fairshare.core.idempotency import idempotent_call
from fairshare.core.ratelimit import RateLimited

P = ParamSpec("P")
R = TypeVar("R", bound=HttpRequest)
Answer = tuple[int, Any]  # (HTTP status, JSON body)
Operation = Callable[[], Answer]
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
MAX_SCOPE_LENGTH = 200  # IdempotencyRecord.scope


def write_endpoint(
    *, group_commit: bool = False
) -> Callable[[Callable[Concatenate[R, P], Operation]], Callable[Concatenate[R, P], HttpResponse]]:
    """Decorate an endpoint (below ``@router.post``) that returns its write operation."""

    def decorate(
        view: Callable[Concatenate[R, P], Operation],
    ) -> Callable[Concatenate[R, P], HttpResponse]:
        @functools.wraps(view)
        def endpoint(request: R, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            operation = view(request, *args, **kwargs)
            key = request.headers.get("Idempotency-Key")
            language = translation.get_language()
            # Read from the request here, on its own thread (``unit`` may run on another).
            scope, payload = (_scope(request), _fingerprint(kwargs)) if key else ("", None)

            def unit() -> Answer:
                with translation.override(language):
                    if not key:
                        return _answer(operation)
                    return idempotent_call(
                        key=key, scope=scope, payload=payload, call=lambda: _answer(operation)
                    )

            status, body = groupcommit.group_commit(unit) if group_commit else unit()
            return json_response(body, status=status)

        # ninja reads the parameters from the signature; resolve the (string) annotations
        # here, where the view's module globals are at hand.
        endpoint.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
        return endpoint

    return decorate


def _answer(operation: Operation) -> Answer:
    try:
        return operation()
    except RateLimited:
        raise
    except ServiceError as exc:
        return exc.status_code, service_error_body(exc)


def _scope(request: HttpRequest) -> str:
    """The key's scope: the caller (the authenticated user, else "anon") and the route."""
    user = getattr(request, "user", None)
    caller = getattr(user, "pk", None) or "anon"
    match = request.resolver_match
    route = match.route if match is not None else request.path
    return f"user:{caller}:{request.method}:{route}"[:MAX_SCOPE_LENGTH]


def _fingerprint(arguments: dict[str, Any]) -> dict[str, Any]:
    """What a retry must repeat: the endpoint's arguments (schemas as JSON)."""
    return {
        name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        for name, value in arguments.items()
        if name != "request"
    }


def json_response(body: Any, *, status: int) -> HttpResponse:
    if status == 204:
        return HttpResponse(status=204)
    content = json.dumps(body, ensure_ascii=False, cls=DjangoJSONEncoder)
    return HttpResponse(content, status=status, content_type=JSON_CONTENT_TYPE)
