"""Input checks shared by the service, the API and the pages. Bad input writes nothing."""

from __future__ import annotations

import unicodedata
from datetime import date

from django.utils.translation import gettext_lazy as _

from fairshare.core.errors import FieldErrors
from fairshare.core.phones import has_control_chars, normalize_desk_phone, normalize_phone

__all__ = ["has_control_chars", "normalize_phone"]  # re-exported: the rules live in core

NAME_MAX = 64
PLACE_MAX = 64


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


# What staff type for a household without any phone.
NO_PHONE = {"", "-", "无", "没有", "无电话", "no", "none", "no phone", "n/a"}


def clean_phone(
    raw: str | None, errors: FieldErrors, field: str = "phone", *, mobile_required: bool = True
) -> str:
    """The mobile number; where no mobile is needed (``rules.mobile_required``), also a
    landline (national format, e.g. ``021-6543 1234``) or "" for none (SMS not sent:
    ``core.phones.has_mobile``)."""
    phone = normalize_phone(raw)
    if phone is None and not mobile_required:
        text = unicodedata.normalize("NFKC", raw or "").strip()
        if " ".join(text.casefold().split()) in NO_PHONE:
            return ""
        landline = normalize_desk_phone(text)
        if landline is not None:
            return landline
        errors.add(field, _("Enter a mobile or landline number, or leave it empty."))
        return ""
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
