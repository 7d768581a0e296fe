"""Fast builders for allocation tests: queues of registrations created in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from fairshare.allocation.models import SupplyDay, SupplyDeclaration
from fairshare.community.models import Building, Committee, Household, Pharmacy
from fairshare.registration import queue
from fairshare.registration.ledger import voided_payload
from fairshare.registration.models import LedgerEntry, Registration
from fairshare.registration.selectors import ledger_at_iso, registered_payload_for
from fairshare.rounds.models import Round

_seq = [0]


def _next() -> int:
    _seq[0] += 1
    return _seq[0]


@dataclass(frozen=True)
class Entry:
    """One registration of a generated queue."""

    channel: str = "online"
    status: str = "verified"
    building: int = 0


def queue_build(
    *, round: Round, committee: Committee, entries: Sequence[Entry], buildings: int = 1
) -> list[Registration]:
    """Create buildings, households and registrations in bulk, numbered after the
    committee's last queue number (1..n in an empty queue), with their ledger links."""
    n = _next()
    last = Registration.objects.filter(round=round, committee=committee).aggregate(
        m=Max("queue_number")
    )["m"]
    blds = Building.objects.bulk_create(
        [
            Building(committee=committee, label=f"B{n}-{i}", sort_order=i, compound="弄")
            for i in range(max(buildings, 1 + max((e.building for e in entries), default=0)))
        ]
    )
    households = Household.objects.bulk_create(
        [
            Household(committee=committee, building=blds[e.building], room=f"{n}-{i}")
            for i, e in enumerate(entries)
        ]
    )
    now = timezone.now()
    regs = [
        Registration(
            round=round,
            committee=committee,
            household=h,
            queue_number=(last or 0) + i + 1,
            ticket=f"T{n}x{i}",
            channel=e.channel,
            status=e.status,
            name="张三",
            phone=f"139{n % 10000:04d}{i:04d}",
            acknowledged_at=now,
        )
        for i, (h, e) in enumerate(zip(households, entries, strict=True))
    ]
    created = Registration.objects.bulk_create(regs, batch_size=2000)
    _chain(round=round, committee=committee, regs=created)
    return created


def _chain(*, round: Round, committee: Committee, regs: Sequence[Registration]) -> None:
    """One "registered" link per registration, as the registration service appends it,
    and a "voided" link after a void one (the lottery ranks and the public order checker
    read the links)."""
    counter = queue.counter_lock(round_id=round.pk, committee_id=committee.pk)
    counter.last_number = max([counter.last_number, *(r.queue_number for r in regs)])
    links: list[queue.Link] = []
    for r in regs:
        links.append(
            (LedgerEntry.Kind.REGISTERED, r, lambda seq, r=r: registered_payload_for(r, seq=seq))
        )
        if r.status == Registration.Status.VOID:
            links.append((LedgerEntry.Kind.VOIDED, r, lambda seq, r=r: _voided(r, seq)))
    queue.ledger_append(counter, links)


def _voided(registration: Registration, seq: int) -> dict:
    return voided_payload(
        seq=seq,
        queue_number=registration.queue_number,
        reason=registration.void_reason,
        at_iso=ledger_at_iso(registration.acknowledged_at),
    )


def supply_set(*, pharmacy: Pharmacy, date, packs: int) -> SupplyDay:
    day, _ = SupplyDay.objects.update_or_create(
        pharmacy=pharmacy, date=date, defaults={"packs": packs}
    )
    SupplyDeclaration.objects.filter(supply_day=day, superseded_by__isnull=True).delete()
    SupplyDeclaration.objects.create(
        supply_day=day,
        packs=packs,
        manufacturer="上海某医疗用品有限公司",
        style="一次性医用口罩",
        unit_price=Decimal("12.50"),
    )
    return day


def registration_close(round: Round) -> None:
    """Move the round's registration window into the past (closed a minute ago)."""
    now = timezone.now()
    Round.objects.filter(pk=round.pk).update(
        registration_opens_at=now - timedelta(hours=2),
        registration_closes_at=now - timedelta(minutes=1),
    )
    round.refresh_from_db()
