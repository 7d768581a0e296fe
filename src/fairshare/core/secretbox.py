"""Small secrets sealed for a short stay in the database (e.g. one-time passwords in a
background job's result, until the job's page shows them once).

``seal_json`` encrypts a JSON value with Fernet (AES-128-CBC + HMAC-SHA256, with a
timestamp); the key is derived with HKDF-SHA256 from ``settings.SECRET_KEY`` and a
``context`` (say ``"job:42"``), so a token only opens for the row it was made for.
``open_json`` gives the value back, or None when the token is empty, forged, made for
another context or another SECRET_KEY, or older than ``max_age`` seconds.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_SALT = b"fairshare.core.secretbox"


def _fernet(context: str) -> Fernet:
    if not context:
        raise ValueError("a secretbox context is required")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=context.encode()).derive(
        str(settings.SECRET_KEY).encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal_json(value: Any, *, context: str) -> str:
    """``value`` (JSON-serialisable) encrypted and authenticated for ``context``."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return _fernet(context).encrypt(data).decode("ascii")


def open_json(token: str, *, context: str, max_age: int | None = None) -> Any:
    """The value sealed by ``seal_json`` for ``context``; None when it cannot be opened."""
    if not token:
        return None
    try:
        data = _fernet(context).decrypt(token.encode("ascii"), ttl=max_age)
    except (InvalidToken, UnicodeEncodeError):
        return None
    return json.loads(data)
