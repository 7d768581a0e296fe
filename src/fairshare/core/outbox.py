"""Outbox: side effects recorded in the business transaction, performed after commit.

``outbox_enqueue`` is called inside the business transaction. ``outbox_drain``
claims due messages with a conditional update (so several workers can drain at
once without sending anything twice), runs the handler for each, and records the
outcome. A failing handler never affects the business data: the message is
retried with exponential back-off, and marked failed after ``MAX_ATTEMPTS``.

A handler says more with two exceptions: ``OutboxRetryLater`` (the far side asked to
wait: retried after its ``delay`` or the back-off) and ``OutboxGiveUp`` (retrying cannot
help: a rejected phone number, a wrong template; failed at once). Any other exception is
a transient fault (network, timeout) and is retried. ``last_error`` records the reason.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fairshare.core.fastsql import WriteBatch, insert_model
from fairshare.core.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 60
Handler = Callable[[dict[str, Any]], None]
_HANDLERS: dict[str, Handler] = {}


def outbox_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that performs messages of ``kind``."""

    def register(func: Handler) -> Handler:
        _HANDLERS[kind] = func
        return func

    return register


def outbox_enqueue(
    *,
    kind: str,
    payload: dict[str, Any],
    household_id: int | None = None,
    batch: WriteBatch | None = None,
) -> OutboxMessage:
    """Record a message in the current transaction. With ``batch`` the INSERT joins the
    caller's batch (sent with its other writes; the message's pk is then not set)."""
    message = OutboxMessage(kind=kind, payload=payload, household_id=household_id)
    if batch is not None:
        batch.insert(message)
    else:
        insert_model(message)  # hot path (one per registration): no ORM compilation
    return message


class OutboxRetryLater(Exception):
    """Not now: retry after ``delay`` seconds (None: the usual back-off)."""

    def __init__(self, reason: str, *, delay: int | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class OutboxGiveUp(Exception):
    """Retrying cannot succeed: mark the message failed now, with this reason."""


def _failure(exc: Exception, attempts: int) -> tuple[bool, int]:
    """(give up?, seconds until the next try) for a handler's exception: the one rule."""
    backoff = min(2**attempts, 3600)
    if isinstance(exc, OutboxGiveUp):
        return True, backoff
    if isinstance(exc, OutboxRetryLater) and exc.delay is not None:
        backoff = max(1, min(exc.delay, 3600))
    return attempts >= MAX_ATTEMPTS, backoff


def _claim(now: datetime, limit: int) -> list[OutboxMessage]:
    token = secrets.token_hex(8)
    due = Q(status=OutboxMessage.Status.PENDING, available_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    candidate_ids = list(
        OutboxMessage.objects.filter(due)
        .order_by("available_at", "id")
        .values_list("id", flat=True)[: limit * 2]
    )
    claimed: list[int] = []
    for message_id in candidate_ids:
        if len(claimed) >= limit:
            break
        with transaction.atomic():
            won = OutboxMessage.objects.filter(due, id=message_id).update(
                claim_token=token, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
            )
        if won:
            claimed.append(message_id)
    return list(OutboxMessage.objects.filter(id__in=claimed, claim_token=token).order_by("id"))


def outbox_drain(*, limit: int = 100, handlers: dict[str, Handler] | None = None) -> dict[str, int]:
    """Perform up to ``limit`` due messages. Returns counts of sent/retried/failed."""
    handlers = handlers if handlers is not None else _HANDLERS
    now = timezone.now()
    counts = {"sent": 0, "retried": 0, "failed": 0}
    for message in _claim(now, limit):
        handler = handlers.get(message.kind)
        try:
            if handler is None:
                raise LookupError(f"no outbox handler for kind {message.kind!r}")
            handler(message.payload)
        except Exception as exc:
            attempts = message.attempts + 1
            failed, delay = _failure(exc, attempts)
            OutboxMessage.objects.filter(id=message.id, claim_token=message.claim_token).update(
                attempts=attempts,
                status=OutboxMessage.Status.FAILED if failed else OutboxMessage.Status.PENDING,
                available_at=now + timedelta(seconds=delay),
                claimed_until=None,
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
            )
            counts["failed" if failed else "retried"] += 1
            log.warning("outbox message %s (%s) failed: %s", message.id, message.kind, exc)
        else:
            OutboxMessage.objects.filter(id=message.id, claim_token=message.claim_token).update(
                status=OutboxMessage.Status.SENT,
                attempts=message.attempts + 1,
                sent_at=timezone.now(),
                claimed_until=None,
                last_error="",
            )
            counts["sent"] += 1
    return counts
