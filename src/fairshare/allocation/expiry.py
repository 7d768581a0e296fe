"""Voucher expiry: issued vouchers past their validity expire; their households are
requeued once or dropped, and each chain gets one ``expired`` link (``chain.py``)."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime

from django.utils import timezone

from fairshare.allocation import chain
from fairshare.allocation.models import Requeue, Voucher
from fairshare.core.audit import audit_record
from fairshare.core.locking import write_transaction
from fairshare.registration import queue
from fairshare.rounds.models import Round


def _requeues(expired: list[Voucher], now: datetime) -> list[Requeue]:
    """The Requeue row of each expired voucher, in order: requeued the first time (when
    the round requeues), dropped otherwise."""
    already = set(
        Requeue.objects.filter(
            outcome=Requeue.Outcome.REQUEUED,
            reason=Requeue.Reason.EXPIRY,
            household_id__in=[v.household_id for v in expired],
        ).values_list("round_id", "household_id")
    )
    rows = []
    for v in expired:
        again = (v.round_id, v.household_id) in already
        requeue = v.round.requeue_expired and not again
        if requeue:
            already.add((v.round_id, v.household_id))
        rows.append(
            Requeue(
                round_id=v.round_id,
                household_id=v.household_id,
                registration_id=v.registration_id,
                voucher=v,
                outcome=Requeue.Outcome.REQUEUED if requeue else Requeue.Outcome.DROPPED,
                created_at=now,
            )
        )
    return rows


def voucher_expire_due(*, today: Date, round: Round | None = None) -> int:
    """Expire issued vouchers whose validity ended before ``today`` (of ``round`` only,
    when given); record requeues and append the ``expired`` links.

    The queue counters of the chains concerned are locked first (locking rule 3:
    counter before voucher); then a conditional update (``status='issued'``) marks the
    vouchers, so a voucher redeemed at the same moment is never expired. Each expired
    voucher's household is requeued once (round setting ``requeue_expired``); a second
    expiry, or requeue off, drops it; a requeue after a supply shortfall
    (``Requeue.Reason.SHORTFALL``) was not the household's doing and does not use up
    its once. One ``expired`` link per (round, committee) lists
    ``[queue_number, outcome]`` in requeue order (the order the requeued are served in).
    """
    now = timezone.now()
    with write_transaction():
        due = list(
            Voucher.objects.filter(status=Voucher.Status.ISSUED, valid_until__lt=today)
            .filter(**({"round_id": round.pk} if round is not None else {}))
            .values_list("id", "round_id", "committee_id")
            .order_by("id")
        )
        if not due:
            return 0
        counters = queue.counters_lock((r, c) for _id, r, c in due)
        ids = [voucher_id for voucher_id, _r, _c in due]
        Voucher.objects.filter(id__in=ids, status=Voucher.Status.ISSUED).update(
            status=Voucher.Status.EXPIRED, expired_at=now
        )
        expired = list(
            Voucher.objects.filter(id__in=ids, status=Voucher.Status.EXPIRED, expired_at=now)
            .select_related("round", "registration")
            .order_by("date", "slot_start", "id")
        )
        rows = _requeues(expired, now)
        Requeue.objects.bulk_create(rows)
        chain.expired_links_append(
            counters=counters,
            entries=[
                (v.round_id, v.committee_id, v.registration.queue_number, row.outcome)
                for v, row in zip(expired, rows, strict=True)
            ],
            now=now,
        )
        audit_record(actor=None, action="voucher.expire", after={"count": len(expired)})
    return len(expired)
