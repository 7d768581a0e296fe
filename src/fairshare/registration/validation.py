"""Input checks shared by the service, the API and the pages. Bad input writes nothing."""

from __future__ import annotations

import unicodedata
from datetime import date
from functools import lru_cache

import phonenumbers
from django.utils.translation import gettext_lazy as _

from fairshare.core.errors import FieldErrors

NAME_MAX = 64
PLACE_MAX = 64
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def has_control_chars(text: str) -> bool:
    # Cc: control characters; Cf: invisible format characters (zero-width, bidi overrides).
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


def clean_name(raw: str | None, errors: FieldErrors, field: str = "name") -> str:
    text = unicodedata.normalize("NFC", raw or "")
    if has_control_chars(text):
        errors.add(field, _("The name contains control characters."))
        return ""
    text = " ".join(text.split())
    if not text:
        errors.add(field, _("Please enter the name."))
    elif len(text) > NAME_MAX:
        errors.add(field, _("The name is too long (at most 64 characters)."))
    return text


def normalize_phone(raw: str | None) -> str | None:
    """The 11-digit mainland mobile number, or None when it is not one."""
    return _normalize_phone((raw or "").strip())


@lru_cache(maxsize=4096)
def _normalize_phone(text: str) -> str | None:
    # Cached: a registration checks its phone twice (rate limit key, then validation);
    # phonenumbers' parse + validity check is ~0.1 ms of Python each time.
    if not text or len(text) > 24 or has_control_chars(text):
        return None
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return None
    return phonenumbers.national_significant_number(number)


def clean_phone(raw: str | None, errors: FieldErrors, field: str = "phone") -> str:
    phone = normalize_phone(raw)
    if phone is None:
        if not (raw or "").strip():
            errors.add(field, _("Please enter a mobile phone number."))
        else:
            errors.add(field, _("Please enter a valid mainland China mobile number (11 digits)."))
        return ""
    return phone


def clean_returnee(
    *,
    returned_recently: bool,
    returned_from: str | None,
    returned_on: date | None,
    today: date,
    errors: FieldErrors,
) -> tuple[bool, str, date | None]:
    place = " ".join(unicodedata.normalize("NFC", returned_from or "").split())
    if has_control_chars(returned_from or ""):
        errors.add("returned_from", _("The place contains control characters."))
    elif len(place) > PLACE_MAX:
        errors.add("returned_from", _("The place is too long (at most 64 characters)."))
    if not returned_recently:
        return False, "", None
    if returned_on is not None and (returned_on > today or (today - returned_on).days > 14):
        errors.add("returned_on", _("The return date must be within the last 14 days."))
    return True, place, returned_on
