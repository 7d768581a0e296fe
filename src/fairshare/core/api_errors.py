"""Uniform API error bodies: per-field messages in the user's language (Chinese unless the
language switch chose English), one language at a time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from fairshare.core.errors import FieldErrors, ServiceError
from fairshare.core.schemas import CONTROL_ERROR, MESSAGES


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


# Pydantic's error types as messages in the user's language (one language at a time;
# pydantic's own text is English only). Unlisted types get the general "invalid value".
_VALIDATION_MESSAGES = {
    "missing": _("This field is required."),
    "json_invalid": _("The body is not valid JSON."),
    "string_too_long": _("This text is too long."),
    "string_too_short": _("This text is too short."),
    "string_pattern_mismatch": _("This text has the wrong format."),
    "string_type": _("Enter a text."),
    "int_parsing": _("Enter a whole number."),
    "int_type": _("Enter a whole number."),
    "int_from_float": _("Enter a whole number."),
    "bool_parsing": _("Enter true or false."),
    "bool_type": _("Enter true or false."),
    "decimal_parsing": _("Enter a number."),
    "date_from_datetime_parsing": _("Enter a valid date (YYYY-MM-DD)."),
    "date_parsing": _("Enter a valid date (YYYY-MM-DD)."),
    "datetime_parsing": _("Enter a valid date and time (ISO 8601)."),
    "datetime_from_date_parsing": _("Enter a valid date and time (ISO 8601)."),
    "list_type": _("Enter a list."),
    **MESSAGES,  # the text rule of core/schemas.py
    # A lone surrogate where pydantic checks the length first: the same rule.
    "string_unicode": MESSAGES[CONTROL_ERROR],
}
_INVALID = _("Invalid value.")
_INVALID_INPUT = _("Invalid input.")
_BODY_ROOTS = ("body", "payload", "query", "path")


def validation_error_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Convert pydantic errors from ninja into our per-field shape, in the active language."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", []) if part not in _BODY_ROOTS]
        field = ".".join(loc) or "__all__"
        text = _pydantic_message(error)
        if text not in fields.setdefault(field, []):
            fields[field].append(text)
    return {"detail": str(_INVALID_INPUT), "code": "invalid", "errors": fields}


def _pydantic_message(error: dict[str, Any]) -> str:
    """A pydantic error in the user's language; pydantic's own text is English, so it is
    shown only for a validator's ValueError (whose message the validator translated)."""
    kind, ctx = str(error.get("type")), error.get("ctx") or {}
    if kind == "string_too_long" and "max_length" in ctx:
        return str(_("At most %(count)s characters.") % {"count": ctx["max_length"]})
    if kind == "string_too_short" and "min_length" in ctx:
        return str(_("At least %(count)s characters.") % {"count": ctx["min_length"]})
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return str(_VALIDATION_MESSAGES.get(kind, _INVALID))


def parser_error_body(exc: Exception) -> dict[str, Any] | None:
    """The 422 body for a request body ninja could not parse (ninja raises an HttpError
    400 from the JSON error); None for any other HttpError."""
    cause = exc.__cause__
    # JSONDecodeError, UnicodeDecodeError (both ValueError), or JSON nested too deep.
    if not isinstance(cause, ValueError | RecursionError):
        return None
    return validation_error_body([{"loc": ["body"], "type": "json_invalid"}])
