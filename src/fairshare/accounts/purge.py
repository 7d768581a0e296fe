"""Deleting the personal data of a finished round (PIPL: keep only what is needed).

The apps that hold personal data each register a purge step from their ``apps.py``
(``register_purge_step``): registration clears names, phones, returnee details and void
notes, deletes the uploaded photos (files and rows) and the phone codes, and clears the
core records of the round's period: SMS outbox payloads, idempotency records, audit notes
and data, the file SMS backend's log (``registration/purge.py``); the pharmacy clears
hand-over recipient names and conflict notes (``pharmacy/purge.py``).

The round's period (``round_period``) runs from its registration opening to two days
after its last purchase day. ``personal_data_purge`` runs every step in one
transaction, records one audit entry, and only after the commit deletes the files the
steps listed, runs their file clean-ups (``result.after_commit``) and, on SQLite,
checkpoints and truncates the WAL (every connection has ``secure_delete`` on, see
``core/sqlite_backend``), so no deleted text stays in the database files. Queue numbers,
statuses, vouchers, counts and the ledger (which holds masked names only) stay, so the
public board and its hash chain remain verifiable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
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
from fairshare.core.models import AuditLog
from fairshare.core.sqlite_backend.base import wal_checkpoint_truncate
from fairshare.rounds.models import Round

FINISHED = (Round.Status.CLOSED, Round.Status.ARCHIVED)


@dataclass
class PurgeResult:
    """What a purge did. ``files``: the files found (dry run) or really deleted."""

    round_id: int
    registrations: int = 0
    files: list[str] = field(default_factory=list)
    dry_run: bool = False
    messages: int = 0
    # Other rows cleared or deleted, by kind ("phone codes", "audit entries", ...).
    cleared: dict[str, int] = field(default_factory=dict)
    # (storage, name) of the files the steps listed, deleted after the commit.
    deletions: list[tuple[Storage, str]] = field(default_factory=list, repr=False)
    # File clean-ups of the steps (e.g. the SMS log), run after the commit.
    after_commit: list[Callable[[], object]] = field(default_factory=list, repr=False)

    def count(self, kind: str, number: int) -> None:
        self.cleared[kind] = self.cleared.get(kind, 0) + number

    def summary(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        files = f"{len(self.files)} file(s)" + ("" if self.dry_run else " deleted")
        others = "".join(f", {n} {kind}" for kind, n in sorted(self.cleared.items()))
        return (
            f"round {self.round_id}: {verb} {self.registrations} registration(s), {files}{others}"
        )


def round_period(round: Round) -> tuple[datetime, datetime]:
    """[start, end) of the round's personal data: its registration opening to the start of
    the second day after its last purchase day (late SMS and hand-overs included)."""
    end = datetime.combine(round.valid_until + timedelta(days=2), time.min)
    return round.registration_opens_at, timezone.make_aware(end)


def audit_redact(rows: QuerySet[AuditLog]) -> int:
    """Blank note, before and after of audit rows not redacted yet (the one change the
    audit log's triggers allow, core migration 0004)."""
    return rows.filter(redacted_at__isnull=True).update(
        note="", before=None, after=None, redacted_at=timezone.now()
    )


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
                **result.cleared,
            },
            note="forced while open" if round.status not in FINISHED else "",
        )
    # Files go after the commit: a rolled-back purge must not lose photos.
    result.files = _delete_files(result.deletions)
    for cleanup in result.after_commit:
        cleanup()
    wal_checkpoint_truncate()
    return result


def _delete_files(deletions: list[tuple[Storage, str]]) -> list[str]:
    """Delete the files; the names of those that existed and are gone now."""
    deleted = []
    for storage, name in deletions:
        existed = storage.exists(name)
        storage.delete(name)
        if existed and not storage.exists(name):
            deleted.append(name)
    return deleted


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
