"""Ed25519 signing keys of the service, kept one way (the voucher key, the ledger key).

A key is the base64url (no padding) of its 32 raw private bytes. It comes from its
setting (``FAIRSHARE_VOUCHER_KEY``, ``FAIRSHARE_LEDGER_KEY``: validated at start-up by
``env.env_key32``) or, when that is empty, is generated once into the data folder
(owner-only file) and read from there afterwards. Several nodes must share one key, so
settings.py refuses to start with ``FAIRSHARE_NODES`` > 1 unless each key is set.

Public keys travel as base64url of their 32 raw bytes; ``key_fingerprint`` is what a
poster can show for a reader to compare by eye.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fairshare.env import EnvError


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=8)
def private_key_load(*, setting: str, value: str, path: Path) -> Ed25519PrivateKey:
    """The key of ``setting`` (its ``value``), else the one generated once at ``path``."""
    if value:
        try:
            return Ed25519PrivateKey.from_private_bytes(b64url_decode(value))
        except ValueError:
            raise EnvError(setting, "expected base64url of 32 raw bytes") from None
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process generated it meanwhile: use that one
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(b64url(key.private_bytes_raw()))
    return Ed25519PrivateKey.from_private_bytes(b64url_decode(path.read_text().strip()))


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return b64url(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def public_key_parse(text: str) -> Ed25519PublicKey | None:
    """The public key of its base64url text, or None when it is not one."""
    try:
        raw = b64url_decode(text.strip())
        return Ed25519PublicKey.from_public_bytes(raw) if len(raw) == 32 else None
    except (ValueError, UnicodeError, AttributeError):
        return None


def key_fingerprint(public_b64: str) -> str:
    """SHA-256 of the raw public key, first 16 bytes in hex, in groups of four."""
    digest = hashlib.sha256(b64url_decode(public_b64)).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def signature_valid(*, public_b64: str, message: bytes, signature_b64: str) -> bool:
    key = public_key_parse(public_b64)
    if key is None:
        return False
    try:
        key.verify(b64url_decode(signature_b64), message)
    except (InvalidSignature, ValueError, UnicodeError, TypeError):
        return False
    return True
