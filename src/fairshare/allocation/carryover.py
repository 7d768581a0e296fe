"""Round carry-over: unserved households of the previous round go first in the new one.

``round_carry_over(round=R)`` takes the households still waiting in
``R.carry_over_from`` (the waiting rule of ``waiting.py``, the one the engine uses) and
registers them in ``R`` ahead of
any new registration: per committee, queue numbers 1..k in their old queue order,
same channel, status, name and phone, a new ticket.

It runs only while the new round's queue of that committee is still empty (its
QueueCounter at 0); otherwise the carried households could not be put ahead
without renumbering acknowledged registrations, whose queue numbers are public in the
hash chain (README.md, "The public ledger"), so it refuses.
Each committee's QueueCounter row is locked (the registration service's lock), the
numbers are taken from it and the public hash chain is extended with one
"registered" link per carried registration (``registration.ledger`` format), all in
one transaction.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.allocation.waiting import waiting_registrations
from fairshare.community.models import Committee
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict
from fairshare.core.locking import write_transaction
from fairshare.registration import ledger
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
from fairshare.registration.selectors import registered_payload_for
from fairshare.registration.tickets import ticket_new
from fairshare.rounds.models import Round


def _ticket(taken: set[str]) -> str:
    """A fresh registration ticket (same format and check symbol as the service's)."""
    while True:
        ticket = ticket_new()
        if ticket not in taken and not Registration.objects.filter(ticket=ticket).exists():
            taken.add(ticket)
            return ticket


def round_carry_over(*, round: Round, actor: Any = None) -> dict[str, int]:
    """Carry the previous round's waiting households into ``round``; counts per committee."""
    previous = round.carry_over_from
    if previous is None:
        raise Conflict(_("This round does not carry households over from another round."))
    committee_ids = list(
        Committee.objects.filter(subdistrict__district_id=round.district_id).values_list(
            "id", flat=True
        )
    )
    counts: dict[str, int] = {}
    now = timezone.now()
    taken: set[str] = set()
    with write_transaction():
        carried = list(
            waiting_registrations(round=previous, committee_ids=committee_ids)
            .select_related("household__building", "committee")
            .order_by("committee__code", "queue_number")
        )
        if not carried:
            return counts
        busy = Registration.objects.filter(
            round=round, committee_id__in={r.committee_id for r in carried}
        ).exists()
        if busy:
            raise Conflict(
                _("The new round already has registrations; carry-over must come first.")
            )
        by_committee: dict[int, list[Registration]] = {}
        for reg in carried:
            by_committee.setdefault(reg.committee_id, []).append(reg)
        for committee_id, regs in by_committee.items():
            QueueCounter.objects.get_or_create(round=round, committee_id=committee_id)
            counter = QueueCounter.objects.select_for_update().get(
                round=round, committee_id=committee_id
            )
            if counter.last_number or counter.ledger_seq:
                raise Conflict(
                    _("The new round already has registrations; carry-over must come first.")
                )
            new_regs = Registration.objects.bulk_create(
                [
                    Registration(
                        round=round,
                        committee_id=committee_id,
                        household_id=old.household_id,
                        queue_number=number,
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
                    for number, old in enumerate(regs, start=1)
                ]
            )
            prev_hash = ledger.GENESIS
            links = []
            for seq, (old, new) in enumerate(zip(regs, new_regs, strict=True), start=1):
                # The same payload the registration service writes and verify_ledger
                # re-computes from the stored row.
                new.household = old.household
                text = ledger.canonical(registered_payload_for(new, seq=seq))
                digest = ledger.link_hash(prev_hash, text)
                links.append(
                    LedgerEntry(
                        round=round,
                        committee_id=committee_id,
                        seq=seq,
                        kind=LedgerEntry.Kind.REGISTERED,
                        registration=new,
                        payload=text,
                        prev_hash=prev_hash,
                        hash=digest,
                        created_at=now,
                    )
                )
                prev_hash = digest
            LedgerEntry.objects.bulk_create(links)
            counter.last_number = len(new_regs)
            counter.ledger_seq = len(links)
            counter.head_hash = prev_hash
            counter.save(update_fields=["last_number", "ledger_seq", "head_hash"])
            counts[regs[0].committee.code] = len(new_regs)
        audit_record(
            actor=actor,
            action="round.carry_over",
            obj=round,
            after={"from_round": previous.pk, "carried": counts},
        )
    return counts
