"""Background jobs: a ``Job`` row, run by the outbox worker (no process of its own).

``job_create`` records the row and an outbox message of kind ``job`` in the caller's
transaction; the worker (``fairshare outbox_worker``, or the one ``fairshare serve`` and
``fairshare demo`` start) calls the runner registered for the job's kind with
``job_runner`` — apps register theirs in ``AppConfig.ready`` (core never imports them).
A runner returns the result (JSON) or raises ``JobFailed`` (an expected refusal, with a
result of its own, e.g. per-row errors). The job moves queued → running → done/failed
once: a message delivered twice finds the job already claimed and does nothing.

Progress: a runner's work is usually one transaction, which would hide updates of the
row until it ends, so the running figures go to a small JSON file under
``PRIVATE_MEDIA_ROOT/jobs/`` on the worker's node, and also to Redis when ``REDIS_URL``
is set (shared by every node, and outside the job's transaction, unlike the database
cache); ``job_status`` reads Redis, then the file, while the job runs. On several nodes
without Redis, another node shows a running job without its live figures until it ends.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from fairshare.core.models import Job
from fairshare.core.outbox import outbox_enqueue, outbox_handler

log = logging.getLogger(__name__)

OUTBOX_KIND = "job"
Progress = Callable[..., None]  # (stage, done=0, total=0)
Runner = Callable[[Job, Progress], dict[str, Any]]
_RUNNERS: dict[str, Runner] = {}
_WRITE_EVERY = 0.5  # seconds between progress-file writes


class JobFailed(Exception):
    """An expected end of a job without success (bad input): recorded, not retried."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message, self.result = message, result


def job_runner(kind: str) -> Callable[[Runner], Runner]:
    """Register the function that runs jobs of ``kind``."""

    def register(func: Runner) -> Runner:
        _RUNNERS[kind] = func
        return func

    return register


def job_create(*, kind: str, params: dict[str, Any], created_by: Any = None) -> Job:
    """A queued job and the outbox message that will run it (committed together)."""
    with transaction.atomic():
        job = Job.objects.create(kind=kind, params=params, created_by=created_by)
        outbox_enqueue(kind=OUTBOX_KIND, payload={"job": job.pk})
    return job


def _progress_path(job_id: int) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "jobs" / f"{job_id}.json"


def _progress_key(job_id: int) -> str | None:
    """The Redis key of a job's live progress; None without Redis (REDIS_URL unset)."""
    return f"job-progress:{job_id}" if settings.REDIS_URL else None


def _progress_shared(job_id: int, value: str | None) -> str | None:
    """Write (``value``), delete (``""``) or read (None) the shared progress; a Redis
    failure only costs the live figures."""
    key = _progress_key(job_id)
    if key is None:
        return None
    try:
        if value is None:
            found = cache.get(key)
            return found if isinstance(found, str) else None
        if value:
            cache.set(key, value, timeout=3600)
        else:
            cache.delete(key)
    except Exception:  # any cache failure: fall back to the file
        log.warning("job progress: shared cache unavailable", exc_info=True)
    return None


class _FileProgress:
    """Writes ``{"stage", "done", "total"}`` atomically (temp file + rename), at most
    twice a second and whenever the stage changes."""

    def __init__(self, job_id: int) -> None:
        self.job_id, self.path = job_id, _progress_path(job_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.stage, self.done, self.total, self.last = "", 0, 0, 0.0

    def __call__(self, stage: str, done: int = 0, total: int = 0) -> None:
        now = time.monotonic()
        changed = stage != self.stage
        self.stage, self.done, self.total = stage, done, total
        if changed or now - self.last >= _WRITE_EVERY:
            self.last = now
            data = json.dumps({"stage": stage, "done": done, "total": total})
            temp = self.path.with_suffix(".tmp")
            temp.write_text(data)
            os.replace(temp, self.path)
            _progress_shared(self.job_id, data)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        _progress_shared(self.job_id, "")


def _finish(job: Job, progress: _FileProgress, **fields: Any) -> None:
    Job.objects.filter(pk=job.pk).update(
        stage=progress.stage,
        done=progress.done,
        total=progress.total,
        finished_at=timezone.now(),
        **fields,
    )
    progress.remove()


def job_run(*, job_id: int) -> str:
    """Run a queued job now (the worker's processing function; tests call it too).
    Returns the job's final state, or "" when it was not queued (already taken)."""
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return ""
    job = Job.objects.get(pk=job_id)
    progress = _FileProgress(job_id)
    runner = _RUNNERS.get(job.kind)
    try:
        if runner is None:
            raise LookupError(f"no job runner for kind {job.kind!r}")
        result = runner(job, progress)
    except JobFailed as exc:
        _finish(job, progress, state=Job.State.FAILED, error=exc.message, result=exc.result)
        return Job.State.FAILED
    except Exception as exc:
        log.exception("job %s (%s) broke", job_id, job.kind)
        _finish(job, progress, state=Job.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        return Job.State.FAILED
    _finish(job, progress, state=Job.State.DONE, result=result)
    return Job.State.DONE


@outbox_handler(OUTBOX_KIND)
def _run_from_outbox(payload: dict[str, Any]) -> None:
    job_run(job_id=int(payload["job"]))


def job_status(job: Job) -> dict[str, Any]:
    """What a status page shows: state, stage, done/total (live while running), the
    result or the error once finished."""
    stage, done, total = job.stage, job.done, job.total
    if job.state == Job.State.RUNNING:
        try:
            text = _progress_shared(job.pk, None) or _progress_path(job.pk).read_text()
            live = json.loads(text)
            stage, done, total = str(live["stage"]), int(live["done"]), int(live["total"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    finished = job.state in (Job.State.DONE, Job.State.FAILED)
    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "stage": stage,
        "done": done,
        "total": total,
        "percent": int(100 * done / total) if total else (100 if finished else 0),
        "finished": finished,
        "error": job.error,
    }
