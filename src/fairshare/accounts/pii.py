"""ID numbers are never stored in clear: only a keyed hash, for duplicate checks.

``id_number_hash(raw)`` validates a mainland resident ID (居民身份证, checksum via
python-stdnum's ``stdnum.cn.ric``) or, loosely, a passport / permit number, and
returns HMAC-SHA256 of the normalized number keyed with FAIRSHARE_PII_KEY (or a key
derived from SECRET_KEY). The same number always gives the same hash; without the
key the hash cannot be checked against a list of candidate numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")


class InvalidIdNumber(ValueError):
    message = _("Not a valid ID card or passport number.")


def _key() -> bytes:
    explicit = getattr(settings, "FAIRSHARE_PII_KEY", "")
    if explicit:
        return explicit.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"fairshare.pii.v1", hashlib.sha256).digest()


def id_number_normalize(raw: str) -> str:
    """Resident IDs: 18 characters with checksum; passports: 5–17 letters/digits."""
    value = re.sub(r"[\s-]", "", raw or "").upper()
    if len(value) == 18 and value[:17].isdigit():
        try:
            return ric.validate(value)
        except StdnumError as exc:
            raise InvalidIdNumber(str(InvalidIdNumber.message)) from exc
    if _PASSPORT.match(value) and not value.isdigit():
        return "P:" + value
    raise InvalidIdNumber(str(InvalidIdNumber.message))


def id_number_hash(raw: str) -> str:
    """HMAC-SHA256 (hex) of the normalized ID number; raises InvalidIdNumber."""
    normalized = id_number_normalize(raw)
    return hmac.new(_key(), normalized.encode(), hashlib.sha256).hexdigest()
