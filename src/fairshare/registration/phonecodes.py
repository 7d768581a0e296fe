"""Phone verification by SMS code (when a round asks for it).

Only a keyed hash of each code is stored. A code lives PHONE_CODE_TTL_SECONDS,
allows PHONE_CODE_MAX_ATTEMPTS wrong tries, and is consumed inside the
registration transaction (so a failed registration leaves it usable).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.core.errors import FieldErrors
from fairshare.core.locking import write_transaction
from fairshare.core.sms import sms_enqueue
from fairshare.registration.models import PhoneCode
from fairshare.registration.validation import clean_phone

CODE_DIGITS = 6


def _hash(phone: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"phone-code|{phone}|{code}".encode(), hashlib.sha256).hexdigest()


def phone_code_send(*, phone: str) -> str:
    """Create a code for ``phone`` and queue the SMS. Returns the normalized phone."""
    errors = FieldErrors()
    phone = clean_phone(phone, errors)
    if errors:
        raise errors
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    now = timezone.now()
    with write_transaction():
        PhoneCode.objects.create(
            phone=phone,
            code_hash=_hash(phone, code),
            expires_at=now + timedelta(seconds=settings.PHONE_CODE_TTL_SECONDS),
        )
        minutes = max(1, settings.PHONE_CODE_TTL_SECONDS // 60)
        sms_enqueue(phone=phone, kind="code", variables={"code": code, "minutes": str(minutes)})
    return phone


def phone_code_check(*, phone: str, code: str | None, errors: FieldErrors) -> int | None:
    """The id of the live code matching ``code``; otherwise a field error on "sms_code"."""
    code = (code or "").strip()
    if not code:
        errors.add("sms_code", _("Please enter the code we sent by SMS."))
        return None
    now = timezone.now()
    live = (
        PhoneCode.objects.filter(
            phone=phone,
            used_at__isnull=True,
            expires_at__gt=now,
            attempts__lt=settings.PHONE_CODE_MAX_ATTEMPTS,
        )
        .order_by("-created_at")
        .first()
    )
    if live is None:
        errors.add("sms_code", _("The code has expired. Please request a new one."))
        return None
    if not hmac.compare_digest(live.code_hash, _hash(phone, code)):
        # Counted even though the request fails: wrong tries must not be free.
        PhoneCode.objects.filter(pk=live.pk).update(attempts=F("attempts") + 1)
        errors.add("sms_code", _("The code is not correct."))
        return None
    return live.pk


def phone_code_consume(*, code_id: int) -> None:
    """Mark the code used (inside the registration transaction); a code works once."""
    used = PhoneCode.objects.filter(pk=code_id, used_at__isnull=True).update(used_at=timezone.now())
    if not used:
        raise FieldErrors({"sms_code": [_("The code has already been used.")]})
