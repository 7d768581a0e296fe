"""Service-level errors that pages and the API turn into clear answers."""

from __future__ import annotations

from collections.abc import ItemsView
from typing import Any

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    """A business rule refused the operation; nothing was written."""

    status_code = 400
    code = "refused"

    def __init__(
        self, message: Any, *, code: str | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.extra = extra or {}


def error_messages(exc: ServiceError) -> dict[str, list[str]]:
    """A service error as {field: [message, ...]} for a page; "general" when not per-field."""
    if isinstance(exc, FieldErrors):
        return {field: [str(m) for m in messages] for field, messages in exc.items()}
    return {"general": [str(exc.message)]}


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class Gone(ServiceError):
    status_code = 410
    code = "gone"


class FieldErrors(ServiceError):
    """Per-field validation errors: {field: [message, ...]}."""

    status_code = 422
    code = "invalid"
    summary = _("Please correct the marked fields.")

    def __init__(self, errors: dict[str, list[Any]] | None = None) -> None:
        super().__init__(self.summary)
        self.errors: dict[str, list[Any]] = errors or {}

    def add(self, field: str, message: Any) -> None:
        self.errors.setdefault(field, []).append(message)

    def items(self) -> ItemsView[str, list[Any]]:
        return self.errors.items()

    def __bool__(self) -> bool:
        return bool(self.errors)
