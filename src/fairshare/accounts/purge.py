"""Deleting the personal data of a finished round (PIPL: keep only what is needed).

The apps that hold personal data each register a purge step from their ``apps.py``
(``register_purge_step``): registration clears names, phones, returnee details, uploaded
photos and the phone numbers of the round's SMS (``registration/purge.py``).
``personal_data_purge`` runs every step in one transaction, records one audit entry, and
deletes the files the steps listed only after the commit. Queue numbers, statuses,
vouchers, counts and the ledger (which holds masked names only) stay, so the public
board and its hash chain remain verifiable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.files.storage import Storage
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict
from fairshare.core.locking import write_transaction
from fairshare.rounds.models import Round

FINISHED = (Round.Status.CLOSED, Round.Status.ARCHIVED)


@dataclass
class PurgeResult:
    round_id: int
    registrations: int = 0
    files: list[str] = field(default_factory=list)
    dry_run: bool = False
    messages: int = 0
    # (storage, name) of the files the steps listed, deleted after the commit.
    deletions: list[tuple[Storage, str]] = field(default_factory=list, repr=False)


class PurgeFunction(Protocol):
    def __call__(self, *, round: Round, dry_run: bool, result: PurgeResult) -> None: ...


@dataclass(frozen=True)
class PurgeStep:
    """One app's part of the purge.

    ``purge`` runs inside the purge's transaction: it counts into ``result`` and, unless
    ``dry_run``, clears its data (files go into ``result.deletions``, not deleted yet).
    ``pending_rounds`` returns the ids of rounds that still hold the app's personal data
    (a ``values("round_id")`` query), for ``rounds_due_for_purge``.
    """

    purge: PurgeFunction
    pending_rounds: Callable[[], QuerySet[Any]]


_steps: list[PurgeStep] = []


def register_purge_step(
    *, purge: PurgeFunction, pending_rounds: Callable[[], QuerySet[Any]]
) -> None:
    """Add an app's purge step (called from its ``AppConfig.ready``; once per step)."""
    step = PurgeStep(purge=purge, pending_rounds=pending_rounds)
    if step not in _steps:
        _steps.append(step)


def personal_data_purge(
    *, round: Round, actor: User | None = None, force: bool = False, dry_run: bool = False
) -> PurgeResult:
    """Purge the round's personal data (refused while the round is not finished)."""
    if round.status not in FINISHED and not force:
        raise Conflict(
            _("The round is still open; close it first (or force)."), code="round_not_closed"
        )
    result = PurgeResult(round_id=round.pk, dry_run=dry_run)
    with write_transaction():
        for step in _steps:
            step.purge(round=round, dry_run=dry_run, result=result)
        if dry_run:
            return result
        audit_record(
            actor=actor,
            action="personal_data.purge",
            obj=round,
            after={
                "registrations": result.registrations,
                "files": len(result.files),
                "messages": result.messages,
            },
            note="forced while open" if round.status not in FINISHED else "",
        )
    # Files go after the commit: a rolled-back purge must not lose photos.
    for storage, name in result.deletions:
        storage.delete(name)
    return result


def rounds_due_for_purge(*, days: int | None = None, today=None) -> list[Round]:
    """Finished rounds whose last purchase day is more than ``days`` days ago."""
    days = settings.FAIRSHARE_PURGE_AFTER_DAYS if days is None else days
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=days)
    if not _steps:
        return []
    pending = Q()
    for step in _steps:
        pending |= Q(pk__in=step.pending_rounds())
    rounds = Round.objects.filter(status__in=FINISHED, valid_until__lt=cutoff)
    return list(rounds.filter(pending).order_by("id"))
