"""Uniform API error bodies: per-field messages in the user's language (Chinese unless the
language switch chose English), one language at a time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from fairshare.core.errors import FieldErrors, ServiceError


def localized(message: Any) -> str:
    """A (lazy) message rendered in the active language only."""
    return str(message)


def field_errors_body(errors: FieldErrors) -> dict[str, Any]:
    return {
        "detail": localized(errors.summary),
        "code": "invalid",
        "errors": {field: [localized(m) for m in messages] for field, messages in errors.items()},
    }


def service_error_body(exc: ServiceError) -> dict[str, Any]:
    """The JSON body of any service error (per-field for FieldErrors)."""
    if isinstance(exc, FieldErrors):
        return field_errors_body(exc)
    return {"detail": localized(exc.message), "code": exc.code, **exc.extra}


def validation_error_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Convert pydantic errors from ninja into our per-field shape."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        loc = [
            str(part)
            for part in error.get("loc", [])
            if part not in ("body", "payload", "query", "path")
        ]
        field = ".".join(loc) or "__all__"
        fields.setdefault(field, []).append(_pydantic_message(error))
    return {"detail": _("Invalid input."), "code": "invalid", "errors": fields}


def _pydantic_message(error: dict[str, Any]) -> str:
    """A pydantic error in the user's language; pydantic's own text is English, so it is
    shown only for a validator's ValueError (whose message the validator translated)."""
    kind, ctx = error.get("type"), error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "json_invalid":
        return _("The body is not valid JSON.")
    if kind == "string_too_long":
        return _("At most %(count)s characters.") % {"count": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("At least %(count)s characters.") % {"count": ctx.get("min_length")}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return _("Invalid value.")
