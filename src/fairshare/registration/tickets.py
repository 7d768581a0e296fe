"""Registration tickets: short, unguessable, easy to read over the phone.

A ticket is 8 random symbols plus one check symbol (fairshare.core.codes: 25-symbol
alphabet without look-alikes; every single wrong symbol and every swap of neighbours
is caught). 25**8 ≈ 1.5e11 tickets, so guessing one is hopeless, and status lookups
also need the phone. Shown as ``XXXX-XXXX-C``; ``ticket_normalize`` accepts lower
case, spaces and dashes.
"""

from __future__ import annotations

from fairshare.core.codes import ALPHABET, code_generate, code_parse

__all__ = ["ALPHABET", "ticket_display", "ticket_new", "ticket_normalize"]

BODY_LENGTH = 8
TICKET_LENGTH = BODY_LENGTH + 1


def ticket_new() -> str:
    return code_generate(BODY_LENGTH)


def ticket_normalize(raw: str | None) -> str | None:
    """The canonical ticket, or None when malformed or its check symbol is wrong."""
    return code_parse(raw, BODY_LENGTH)


def ticket_display(ticket: str) -> str:
    return f"{ticket[:4]}-{ticket[4:8]}-{ticket[8:]}"
