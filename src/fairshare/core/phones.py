"""Phone numbers as people type them, normalised once for every caller.

``normalize_phone`` is the mainland mobile rule (11 digits) used by registration,
the resident pages and the roster import; ``normalize_desk_phone`` accepts any valid
mainland number (a committee's landline such as 021-65011234) for display.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import phonenumbers

_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def has_control_chars(text: str) -> bool:
    """Cc (control) or Cf (invisible format: zero-width, bidi overrides) characters."""
    if text.isprintable():  # fast path (C): printable text has neither
        return False
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


def normalize_phone(raw: str | None) -> str | None:
    """The 11-digit mainland mobile number, or None when it is not one."""
    text = (raw or "").strip()
    if len(text) == 11 and text.isascii() and text.isdigit() and text[0] == "1":
        # Bulk callers (the roster import) check 100,000s of distinct numbers: the mobile
        # ranges of phonenumbers' metadata for CN are decided by at most the first 5 digits
        # (e.g. 1740[0-5]), so the first 7 (the 号段) decide for the whole number.
        return text if _mobile_block(text[:7]) else None
    return _normalize_phone(text)


@lru_cache(maxsize=65536)
def _mobile_block(prefix: str) -> bool:
    return _normalize_phone(prefix + "0000") is not None


def _parse(text: str) -> phonenumbers.PhoneNumber | None:
    if not text or len(text) > 24 or has_control_chars(text):
        return None
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    return number


@lru_cache(maxsize=4096)
def _normalize_phone(text: str) -> str | None:
    # Cached: a registration checks its phone twice (rate limit key, then validation);
    # phonenumbers' parse + validity check is ~0.1 ms of Python each time.
    number = _parse(text)
    if number is None or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return None
    return str(phonenumbers.national_significant_number(number))


def has_mobile(phone: str | None) -> bool:
    """Whether a registration's phone can take an SMS: the one "has a mobile" rule
    (blank, a landline or "no phone" → told by hand, ``allocation/by_hand.py``)."""
    return normalize_phone(phone) is not None


def stored_mobile_sql(column: str) -> str:
    """``has_mobile`` as an SQL condition on a stored registration phone, for set-based
    writes: ``registration.validation.clean_phone`` stores a mobile as its 11 digits, a
    landline in national format (leading 0) and "no phone" as "". Bound to ``has_mobile``
    by tests/core/test_phones.py::test_stored_mobile_sql_is_has_mobile."""
    return f"(length({column}) = 11 AND substr({column}, 1, 1) = '1')"


def normalize_desk_phone(raw: str | None) -> str | None:
    """Any valid mainland number (landline or mobile) in national format, or None."""
    number = _parse((raw or "").strip())
    if number is None:
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
