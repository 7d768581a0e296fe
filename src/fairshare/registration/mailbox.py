"""The pre-filled mailbox form's code (issue 16): a QR that names one household and
one round, signed so it cannot be forged or guessed.

The code is ``FSM`` + ``django.core.signing.Signer`` over ``<round id>.<household id>``
with its own salt (no other signed value of the service is accepted as one). It is short
enough for a USB scanner to type into the desk's address field. A form used twice finds
its household registered already: the desk shows that registration (one live
registration per household and round is the database's rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core import signing

MAILBOX_SALT = "fairshare.registration.mailbox-form"
PREFIX = "FSM"
_SHAPE = re.compile(r"^FSM\d{1,10}\.\d{1,12}:[A-Za-z0-9_\-]{20,100}$")


@dataclass(frozen=True)
class MailboxCode:
    round_id: int
    household_id: int


def mailbox_code_make(*, round_id: int, household_id: int) -> str:
    signer = signing.Signer(salt=MAILBOX_SALT)
    return PREFIX + signer.sign(f"{round_id}.{household_id}")


def looks_like_mailbox_code(text: str | None) -> bool:
    """Whether the desk's field holds a scanned form code (genuine or not)."""
    return (text or "").strip().upper().startswith(PREFIX) and len((text or "").strip()) > 8


def mailbox_code_read(text: str | None) -> MailboxCode | None:
    """The round and household of a genuine code; ``None`` for anything else."""
    value = (text or "").strip()
    if not _SHAPE.match(value):
        return None
    try:
        payload = signing.Signer(salt=MAILBOX_SALT).unsign(value[len(PREFIX) :])
    except signing.BadSignature:
        return None
    round_id, household_id = payload.split(".")
    return MailboxCode(round_id=int(round_id), household_id=int(household_id))
