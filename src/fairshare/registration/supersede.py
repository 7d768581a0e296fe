"""No squatting: a roster-matching registration supersedes a pending one of its household.

Anyone can type any address with a made-up name; such a registration waits for review
(``pending_review``) and gets no voucher before staff approve it (the review gate,
``allocation/waiting.py``). When the household's own registration arrives — a name that
matches the roster — it is never refused because of the pending one: inside the same
transaction (the (round, committee) queue counter locked, ``registration/queue.py``)
the pending registration is made void with the reason ``superseded`` and a "voided"
link is appended to the public chain, then the roster-matching registration is inserted
with the next queue number: its own place at its own acknowledgement time. The squatter
gains nothing (no voucher, and the place it took is void) and cannot choose the order of
any other household (``docs/fairness.md``, "Whose place counts").
"""

from __future__ import annotations

from datetime import datetime

from fairshare.registration.ledger import SUPERSEDED, voided_payload
from fairshare.registration.models import LedgerEntry, Registration
from fairshare.registration.queue import Link
from fairshare.registration.selectors import ledger_at_iso


def supersedes(existing: Registration, *, status: str) -> bool:
    """Whether a new registration of ``status`` supersedes the live ``existing`` one."""
    return (
        existing.status == Registration.Status.PENDING_REVIEW
        and status == Registration.Status.VERIFIED
    )


def pending_supersede(existing: Registration, *, now: datetime) -> Link | None:
    """Make the pending ``existing`` void (reason ``superseded``); its ledger link, or None
    when it was no longer pending (reviewed meanwhile: the caller looks again).

    The caller holds the (round, committee) counter lock and appends the link.
    """
    changed = Registration.objects.filter(
        pk=existing.pk, status=Registration.Status.PENDING_REVIEW
    ).update(status=Registration.Status.VOID, void_reason=SUPERSEDED)
    if not changed:
        return None
    existing.status, existing.void_reason = Registration.Status.VOID, SUPERSEDED
    number, at = existing.queue_number, ledger_at_iso(now)
    return (
        LedgerEntry.Kind.VOIDED,
        existing,
        lambda seq: voided_payload(seq=seq, queue_number=number, reason=SUPERSEDED, at_iso=at),
    )
