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
extended with one "registered" link per carried registration (``carried_from``: the
source round), through the registration queue (``registration/queue.py``); the source
round's chain of each committee gets one "carried" link with the carried (old) queue
numbers and the target round (``chain.py``); all in one transaction, the counters of
both rounds locked in (round, committee) order.

Fence (issue 18): the carry-over takes the source round's row lock (the one a real
allocation of that round holds for its whole run, ``services.allocation_run``),
re-reads who waits under it and records a ``CarryOver`` row; from then on the source
round allocates nothing, so nobody is served in both rounds. A household served in
the source round is not waiting there (``waiting.py``), so it is never carried. The
carry-over runs once per target round: a second run carries nobody (and households
already registered in the target are never carried again).

Each carried household with a mobile number gets one ``carry_over`` SMS (its new queue
number and ticket) through the outbox, in the same transaction; households without
one are counted (``without_mobile``) and are on the committee's notify-by-hand list
(``by_hand.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.allocation import chain
from fairshare.allocation.by_hand import mobile_of
from fairshare.allocation.models import CarryOver
from fairshare.allocation.waiting import waiting_registrations
from fairshare.community.models import Committee
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict
from fairshare.core.locking import lock_rows, write_transaction
from fairshare.core.sms import sms_enqueue
from fairshare.registration import queue
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
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
    *,
    round: Round,
    counters: dict[tuple[int, int], QueueCounter],
    committee_id: int,
    regs: list[Registration],
    now: datetime,
    taken: set[str],
) -> list[Registration]:
    """Register ``regs`` (one committee, old queue order) as numbers 1..k of ``round``,
    through the registration queue (the locked counters of both rounds): enqueue, one
    "registered" link each (``carried_from`` the source round), and one "carried" link
    in the source round's chain."""
    source_id = regs[0].round_id
    counter = counters[(round.pk, committee_id)]
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
        [(LedgerEntry.Kind.REGISTERED, new, _payload_for(new, source_id)) for new in new_regs],
        created_at=now,
    )
    chain.carried_link_append(
        counter=counters[(source_id, committee_id)],
        to_round=round.pk,
        queue_numbers=[old.queue_number for old in regs],
        now=now,
    )
    return new_regs


def _notify(*, round: Round, registrations: list[Registration]) -> int:
    """One ``carry_over`` SMS per carried household with a mobile (outbox, this
    transaction); the number of households without one."""
    without = 0
    for reg in registrations:
        phone = mobile_of(reg.phone)  # the one "has a mobile" rule (by_hand.py)
        if phone is None:
            without += 1
            continue
        sms_enqueue(
            phone=phone,
            kind="carry_over",
            variables={
                "committee": reg.committee.name,
                "round": round.name,
                "number": str(reg.queue_number),
                "ticket": reg.ticket,
            },
            household_id=reg.household_id,
        )
    return without


def _payload_for(registration: Registration, source_id: int) -> Callable[[int], dict[str, Any]]:
    return lambda seq: registered_payload_for(registration, seq=seq, carried_from=source_id)


def round_carry_over(*, round: Round, actor: User | None = None) -> dict[str, int]:
    """Carry the previous round's waiting households into ``round``; counts per committee."""
    return carry_over_run(round=round, actor=actor)["carried"]


def _waiting_to_carry(
    *, previous: Round, round: Round, committee_ids: list[int]
) -> list[Registration]:
    """Who waits in ``previous`` (the one waiting rule), minus households already
    registered in ``round``; old queue order per committee."""
    return list(
        # held=True: a household still under review is carried too, not dropped.
        waiting_registrations(round=previous, committee_ids=committee_ids, held=True)
        .exclude(household_id__in=Registration.objects.filter(round=round).values("household_id"))
        .select_related("household__building", "committee")
        .order_by("committee__code", "queue_number")
    )


def _by_committee(registrations: list[Registration]) -> dict[int, list[Registration]]:
    grouped: dict[int, list[Registration]] = {}
    for reg in registrations:
        grouped.setdefault(reg.committee_id, []).append(reg)
    return grouped


def carry_over_run(*, round: Round, actor: User | None = None) -> dict[str, Any]:
    """The carry-over of ``round`` (module docstring): ``{"carried": {committee code:
    count}, "total": n, "without_mobile": n}``; a second run carries nobody."""
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
        # Serializes with an allocation of the source round (services.allocation_run).
        lock_rows(Round.objects.filter(pk=previous.pk), no_key=True).get()
        if CarryOver.objects.filter(target=round).exists():
            return {"carried": counts, "total": 0, "without_mobile": 0}
        carried = _waiting_to_carry(previous=previous, round=round, committee_ids=committee_ids)
        if (
            carried
            and Registration.objects.filter(
                round=round, committee_id__in={r.committee_id for r in carried}
            ).exists()
        ):
            raise Conflict(NOT_FIRST)
        by_committee = _by_committee(carried)
        new_regs: list[Registration] = []
        # Both rounds' counters of these committees, in (round, committee) order.
        counters = queue.counters_lock(
            (r, c) for c in by_committee for r in (previous.pk, round.pk)
        )
        for committee_id, regs in by_committee.items():
            new_regs += _carry_committee(
                round=round,
                counters=counters,
                committee_id=committee_id,
                regs=regs,
                now=now,
                taken=taken,
            )
            counts[regs[0].committee.code] = len(regs)
        for new in new_regs:
            new.committee = by_committee[new.committee_id][0].committee
        without = _notify(round=round, registrations=new_regs)
        CarryOver.objects.create(
            source=previous,
            target=round,
            carried=len(new_regs),
            without_mobile=without,
            created_at=now,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            action="round.carry_over",
            obj=round,
            after={"from_round": previous.pk, "carried": counts, "without_mobile": without},
        )
    return {"carried": counts, "total": len(new_regs), "without_mobile": without}
