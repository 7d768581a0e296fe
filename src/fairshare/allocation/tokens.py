"""Voucher codes and signed voucher tokens (what the QR code carries).

* The **code** is for typing at the counter: 10 characters from an unambiguous
  alphabet (no 0/O, 1/I/L, 2/Z, 5/S, 8/B) plus a check character, shown in groups
  as ``XXXX-XXXXX-C``; ``code_normalize`` accepts lower case, spaces and dashes.
* The **token** is ``FS1.<payload>.<signature>`` (base64url without padding): the
  payload is canonical JSON of the voucher's claims, signed with Ed25519. The
  pharmacy terminal holds only the public key (``GET /api/v1/public/voucher-key``),
  so it can check a voucher while offline; nothing secret is on the terminal.

The private key comes from ``FAIRSHARE_VOUCHER_KEY`` (base64url of the 32-byte
raw Ed25519 private key) or is generated once into the data folder
(``core/edkeys.py``, shared with the ledger key).
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from fairshare.allocation.models import Voucher
from fairshare.core.codes import code_generate, code_parse, codes_generate, codes_generate_packed
from fairshare.core.edkeys import b64url as _b64
from fairshare.core.edkeys import b64url_decode as _unb64
from fairshare.core.edkeys import private_key_load
from fairshare.core.edkeys import public_key_b64 as _public_b64

CODE_LENGTH = 10
TOKEN_PREFIX = "FS1"


def code_new() -> str:
    return code_generate(CODE_LENGTH)


def codes_new(count: int) -> list[str]:
    return codes_generate(CODE_LENGTH, count)


def codes_new_packed(count: int) -> bytes:
    """``count`` new codes as one byte string, ``CODE_LENGTH + 1`` bytes each."""
    return codes_generate_packed(CODE_LENGTH, count)


def code_normalize(raw: str) -> str | None:
    """Return the canonical code, or None when it is malformed or its check fails."""
    return code_parse(raw, CODE_LENGTH)


def code_display(code: str) -> str:
    return f"{code[:4]}-{code[4:9]}-{code[9:]}"


def _private_key() -> Ed25519PrivateKey:
    return private_key_load(
        setting="FAIRSHARE_VOUCHER_KEY",
        value=settings.FAIRSHARE_VOUCHER_KEY,
        path=settings.DATA_DIR / "voucher_signing_key",
    )


def public_key() -> Ed25519PublicKey:
    return _private_key().public_key()


def public_key_b64() -> str:
    return _public_b64(_private_key())


def token_sign(claims: dict[str, Any]) -> str:
    payload = json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    body = _b64(payload.encode("utf-8"))
    signature = _private_key().sign(f"{TOKEN_PREFIX}.{body}".encode("ascii"))
    return f"{TOKEN_PREFIX}.{body}.{_b64(signature)}"


def token_verify(token: str, key: Ed25519PublicKey | None = None) -> dict[str, Any] | None:
    """The claims of a genuine token, or None for anything forged, tampered or malformed."""
    parts = (token or "").strip().split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(token) > 2000:
        return None
    try:
        (key or public_key()).verify(_unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii"))
        claims = json.loads(_unb64(parts[1]))
    except (InvalidSignature, ValueError, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


def voucher_claims(voucher: Voucher) -> dict[str, Any]:
    """What a voucher's QR token asserts (no personal data beyond the masked name)."""
    return {
        "c": voucher.code,
        "r": voucher.round_id,
        "p": voucher.pharmacy.code,
        "d": voucher.date.isoformat(),
        "u": voucher.valid_until.isoformat(),
        "k": voucher.packs,
    }
