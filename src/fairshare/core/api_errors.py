"""Uniform API error bodies: per-field messages in Chinese and English."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from fairshare.core.errors import FieldErrors, ServiceError


def bilingual(message: Any) -> str:
    """Render a lazy message as "中文 / English" (or just one when they are the same)."""
    with translation.override("zh-hans"):
        zh = str(message)
    with translation.override("en"):
        en = str(message)
    return zh if zh == en else f"{zh} / {en}"


def field_errors_body(errors: FieldErrors) -> dict[str, Any]:
    return {
        "detail": bilingual(errors.summary),
        "code": "invalid",
        "errors": {field: [bilingual(m) for m in messages] for field, messages in errors.items()},
    }


def service_error_body(exc: ServiceError) -> dict[str, Any]:
    """The JSON body of any service error (per-field for FieldErrors)."""
    if isinstance(exc, FieldErrors):
        return field_errors_body(exc)
    return {"detail": bilingual(exc.message), "code": exc.code, **exc.extra}


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
        message = error.get("msg", "invalid")
        if error.get("type") == "missing":
            text = "此项必填 / This field is required."
        elif error.get("type") == "json_invalid":
            text = "请求体不是有效的 JSON / The body is not valid JSON."
        else:
            text = f"格式不正确 / Invalid value: {message}"
        fields.setdefault(field, []).append(text)
    return {"detail": "输入有误 / Invalid input.", "code": "invalid", "errors": fields}
