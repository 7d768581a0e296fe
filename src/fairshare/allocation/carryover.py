"""Round carry-over: unserved households of the previous round go first in the new one.

``round_carry_over(round=R)`` takes the households still waiting in
``R.carry_over_from`` (the waiting rule of ``waiting.py``, the one the engine uses) and
registers them in ``R`` ahead of
any new registration: per committee, queue numbers 1..k in their old queue order,
same channel, status, name and phone, a new ticket.

It runs only while the new round's queue of that committee is still empty (its
QueueCounter at 0); otherwise the carried households could not be put ahead
without renumbering acknowledged registrations (queue numbers are never reused or
changed: README.md, "The public ledger"), so it refuses. Each committee's queue
counter is locked, the numbers are taken from it and the public hash chain is
extended with one "registered" link per carried registration, through the
registration queue (``registration/queue.py``), all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.allocation.waiting import waiting_registrations
from fairshare.community.models import Committee
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict
from fairshare.core.locking import write_transaction
from fairshare.registration import queue
from fairshare.registration.models import LedgerEntry, Registration
from fairshare.registration.selectors import registered_payload_for
from fairshare.registration.tickets import ticket_new
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import round_committees_q


def _ticket(taken: set[str]) -> str:
    """A fresh registration ticket (same format and check symbol as the service's)."""
    while True:
        ticket = ticket_new()
        if ticket not in taken and not Registration.objects.filter(ticket=ticket).exists():
            taken.add(ticket)
            return ticket


NOT_FIRST = _("The new round already has registrations; carry-over must come first.")


def _carry_committee(
    *, round: Round, committee_id: int, regs: list[Registration], now: datetime, taken: set[str]
) -> None:
    """Register ``regs`` (one committee, old queue order) as numbers 1..k of ``round``,
    through the registration queue: counter lock, enqueue, one ledger link each."""
    counter = queue.counter_lock(round_id=round.pk, committee_id=committee_id)
    if counter.last_number or counter.ledger_seq:
        raise Conflict(NOT_FIRST)
    new_regs = [
        Registration(
            round=round,
            committee_id=committee_id,
            household_id=old.household_id,
            ticket=_ticket(taken),
            channel=old.channel,
            status=old.status,
            name=old.name,
            phone=old.phone,
            acknowledged_at=now,
            returned_recently=old.returned_recently,
            returned_from=old.returned_from,
            returned_on=old.returned_on,
        )
        for old in regs
    ]
    for old, new in zip(regs, new_regs, strict=True):
        if not queue.enqueue(counter, new):
            raise Conflict(NOT_FIRST)
        new.household = old.household
    # The same "registered" link the registration service writes and verify_ledger
    # re-computes from the stored row.
    queue.ledger_append(
        counter,
        [(LedgerEntry.Kind.REGISTERED, new, _payload_for(new)) for new in new_regs],
        created_at=now,
    )


def _payload_for(registration: Registration) -> Callable[[int], dict[str, Any]]:
    return lambda seq: registered_payload_for(registration, seq=seq)


def round_carry_over(*, round: Round, actor: User | None = None) -> dict[str, int]:
    """Carry the previous round's waiting households into ``round``; counts per committee."""
    previous = round.carry_over_from
    if previous is None:
        raise Conflict(_("This round does not carry households over from another round."))
    committee_ids = list(
        Committee.objects.filter(round_committees_q(round)).values_list("id", flat=True)
    )
    counts: dict[str, int] = {}
    now = timezone.now()
    taken: set[str] = set()
    with write_transaction():
        carried = list(
            waiting_registrations(round=previous, committee_ids=committee_ids, held=True)
            .select_related("household__building", "committee")
            .order_by("committee__code", "queue_number")
        )
        if not carried:
            return counts
        busy = Registration.objects.filter(
            round=round, committee_id__in={r.committee_id for r in carried}
        ).exists()
        if busy:
            raise Conflict(NOT_FIRST)
        by_committee: dict[int, list[Registration]] = {}
        for reg in carried:
            by_committee.setdefault(reg.committee_id, []).append(reg)
        for committee_id, regs in by_committee.items():
            _carry_committee(
                round=round, committee_id=committee_id, regs=regs, now=now, taken=taken
            )
            counts[regs[0].committee.code] = len(regs)
        audit_record(
            actor=actor,
            action="round.carry_over",
            obj=round,
            after={"from_round": previous.pk, "carried": counts},
        )
    return counts
