"""The one rule for text input on the API: no control characters.

PostgreSQL cannot store NUL (it answered 500), a lone surrogate cannot be encoded,
and the other control characters only hide or garble text on pages, slips and
exports. So every text value of every API input is refused (a per-field 422, see
``core/api_errors.py``) when it holds

* a control character: C0 other than tab, line feed and carriage return, DEL, C1;
* a lone surrogate (JSON allows ``"\\ud800"``);
* in a single-line field (the default), also a tab, a line break or U+2028/U+2029.

Request bodies inherit :class:`Schema`, whose validator covers each ``str`` field,
also inside lists, dicts and ``Optional``; a field where line breaks belong (notes,
notice bodies, reasons) is declared :data:`MultiLineText`. Path and query parameters
are declared :data:`SingleLine`. Forms use the same rule (``core/forms.py``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, get_args

import ninja
from django.utils.translation import gettext_lazy as _
from pydantic import AfterValidator, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAK = re.compile("[\t\n\r\u2028\u2029]")

CONTROL_ERROR = "text_control"
LINE_BREAK_ERROR = "text_line_break"
MESSAGES = {
    CONTROL_ERROR: _("Remove the control characters (such as NUL) from this text."),
    LINE_BREAK_ERROR: _("This field takes a single line: no line breaks or tabs."),
}


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """The error type the text breaks (CONTROL_ERROR, LINE_BREAK_ERROR), or None."""
    if _CONTROL.search(value):
        return CONTROL_ERROR
    if not multiline and _LINE_BREAK.search(value):
        return LINE_BREAK_ERROR
    return None


def _refuse(value: Any, *, multiline: bool) -> None:
    """Check every text in a value (str, or one nested in lists, tuples, sets, dicts)."""
    if isinstance(value, str):
        problem = text_problem(value, multiline=multiline)
        if problem is not None:
            raise PydanticCustomError(problem, str(MESSAGES[problem]))
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse(key, multiline=False)
            _refuse(item, multiline=multiline)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _refuse(item, multiline=multiline)


def _single_line(value: str) -> str:
    _refuse(value, multiline=False)
    return value


class MultiLine:
    """Marks text where tabs and line breaks are allowed: ``Annotated[str, MultiLine()]``."""

    def __repr__(self) -> str:
        return "MultiLine()"


MultiLineText = Annotated[str, MultiLine()]
# For path and query parameters (a body field of a Schema needs only ``str``).
SingleLine = Annotated[str, AfterValidator(_single_line)]


def _marked_multiline(annotation: Any, metadata: list[Any]) -> bool:
    if any(isinstance(item, MultiLine) for item in metadata):
        return True
    return any(
        isinstance(arg, MultiLine) or _marked_multiline(arg, []) for arg in get_args(annotation)
    )


class Schema(ninja.Schema):
    """The base of every API input schema: the text rule above on every field."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        field = cls.model_fields[info.field_name] if info.field_name else None
        multiline = field is not None and _marked_multiline(field.annotation, field.metadata)
        _refuse(value, multiline=multiline)
        return value


# The one rule for dates and times people mean: years 2000-2099 and, for a time, a UTC
# offset that exists (at most 14 h). PostgreSQL refuses an offset beyond about 16 h (a 500
# found by the API fuzz test), and year 0436 is always a typo. Services check it with
# ``moment_in_range``; API inputs declare :data:`Moment`.
MOMENT_ERROR = _("Give a date between 2000 and 2099 (times in a real time zone).")
_EARLIEST, _LATEST = date(2000, 1, 1), date(2099, 12, 31)
_MAX_OFFSET = timedelta(hours=14)


def moment_in_range(value: date) -> bool:
    """Whether ``value`` (a date or a datetime) is a date or time people can mean."""
    day = value.date() if isinstance(value, datetime) else value
    offset = value.utcoffset() if isinstance(value, datetime) else None
    return _EARLIEST <= day <= _LATEST and (offset is None or abs(offset) <= _MAX_OFFSET)


def _moment(value: datetime) -> datetime:
    if not moment_in_range(value):
        raise ValueError(str(MOMENT_ERROR))
    return value


Moment = Annotated[datetime, AfterValidator(_moment)]
