"""Registration tickets: short, unguessable, easy to read over the phone.

A ticket is 8 random symbols from a 25-symbol alphabet without look-alikes (no
0/O, 1/I/L, 2/Z, 5/S, 8/B) plus one check symbol (weighted sum modulo 25, which
catches every single wrong symbol and most swaps of neighbours). 25**8 ≈ 1.5e11
tickets, so guessing one is hopeless, and status lookups also need the phone.
Shown as ``XXXX-XXXX-C``; ``ticket_normalize`` accepts lower case, spaces and dashes.
"""

from __future__ import annotations

import secrets

ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
BODY_LENGTH = 8
TICKET_LENGTH = BODY_LENGTH + 1


def _check_char(body: str) -> str:
    total = sum((i + 1) * ALPHABET.index(ch) for i, ch in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def ticket_new() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + _check_char(body)


def ticket_normalize(raw: str | None) -> str | None:
    """The canonical ticket, or None when malformed or its check symbol is wrong."""
    text = "".join(ch for ch in (raw or "").upper() if ch not in " -_\t")
    if len(text) != TICKET_LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text if _check_char(text[:-1]) == text[-1] else None


def ticket_display(ticket: str) -> str:
    return f"{ticket[:4]}-{ticket[4:8]}-{ticket[8:]}"
