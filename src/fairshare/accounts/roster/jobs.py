"""The upload page's imports as background jobs (``fairshare.core.jobs``), run by the
outbox worker: kind ``roster_import``, params {folder, dry_run, reset_passwords,
language}; the files are the ones the page staged (``staging.py``: in the private
storage every node shares, under roster-imports/<folder>/).

The new accounts' one-time passwords never rest in clear: the result holds them sealed
(``fairshare.core.secretbox``, key bound to the job), for the job's page to show once."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation

from fairshare.accounts.models import User
from fairshare.accounts.roster.errors import ImportRefused
from fairshare.accounts.roster.services import roster_import
from fairshare.accounts.roster.staging import staged_delete, staged_exists, staged_open
from fairshare.core.jobs import JobFailed, Progress, job_runner
from fairshare.core.models import Job
from fairshare.core.secretbox import open_json, seal_json

KIND = "roster_import"


@job_runner(KIND)
def run_roster_job(job: Job, progress: Progress) -> dict[str, Any]:
    params = job.params
    folder = str(params["folder"])
    if not staged_exists(folder):
        raise JobFailed("the uploaded files are gone (older than an hour?)")
    actor = User.objects.get(pk=job.created_by_id) if job.created_by_id else None
    dry_run = bool(params.get("dry_run"))
    handles = staged_open(folder)
    try:
        with translation.override(params.get("language") or settings.LANGUAGE_CODE):
            try:
                result = roster_import(
                    files=handles,
                    actor=actor,
                    dry_run=dry_run,
                    progress=progress,
                    reset_passwords=bool(params.get("reset_passwords")),
                )
            except ImportRefused as exc:
                errors = [e.as_dict() for e in exc.errors.items]
                raise JobFailed(
                    f"{len(exc.errors)} error(s)",
                    {"errors": errors, "overflow": exc.errors.overflow},
                ) from exc
    finally:
        for _name, handle in handles:
            handle.close()
        if not dry_run:
            staged_delete(folder)
    pairs = [list(pair) for pair in result.passwords]
    return {**result.summary(), "passwords": seal_passwords(job, pairs) if pairs else ""}


def _context(job: Job) -> str:
    return f"{KIND}:{job.pk}"


def seal_passwords(job: Job, pairs: list[list[str]]) -> str:
    """[[username, password], ...] encrypted for this job only."""
    return seal_json(pairs, context=_context(job))


def open_passwords(job: Job, sealed: str) -> list[list[str]]:
    """The pairs sealed by ``seal_passwords`` for this job; [] when they cannot be opened."""
    value = open_json(sealed, context=_context(job))
    return [[str(name), str(password)] for name, password in value] if value else []
