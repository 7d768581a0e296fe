"""Test helpers: append ledger links the way the registration service does."""

from __future__ import annotations

from django.utils import timezone

from fairshare.core.masking import mask_name
from fairshare.registration.ledger import (
    GENESIS,
    canonical,
    link_hash,
    registered_payload,
    voided_payload,
)
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration


def _counter(round_, committee) -> QueueCounter:
    counter, _ = QueueCounter.objects.get_or_create(round=round_, committee=committee)
    return counter


def _append(counter: QueueCounter, payload_for_seq, registration=None, kind="registered"):
    seq = counter.ledger_seq + 1
    payload = canonical(payload_for_seq(seq))
    prev = counter.head_hash if counter.ledger_seq else GENESIS
    h = link_hash(prev, payload)
    LedgerEntry.objects.create(
        round=counter.round,
        committee=counter.committee,
        seq=seq,
        kind=kind,
        registration=registration,
        payload=payload,
        prev_hash=prev,
        hash=h,
    )
    counter.ledger_seq = seq
    counter.head_hash = h
    counter.save(update_fields=["ledger_seq", "head_hash", "last_number"])
    return h


def ledger_append_registered(reg: Registration) -> str:
    counter = _counter(reg.round, reg.committee)
    counter.last_number = max(counter.last_number, reg.queue_number)
    hh = reg.household
    return _append(
        counter,
        lambda seq: registered_payload(
            seq=seq,
            queue_number=reg.queue_number,
            masked_name=mask_name(reg.name),
            building=hh.building.label,
            room=hh.room,
            channel=reg.channel,
            at_iso=timezone.localtime(reg.acknowledged_at).isoformat(),
        ),
        registration=reg,
    )


def ledger_append_voided(reg: Registration, reason: str = "duplicate") -> str:
    counter = _counter(reg.round, reg.committee)
    return _append(
        counter,
        lambda seq: voided_payload(
            seq=seq,
            queue_number=reg.queue_number,
            reason=reason,
            at_iso=timezone.localtime().isoformat(),
        ),
        registration=reg,
        kind="voided",
    )
