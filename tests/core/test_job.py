"""Background jobs run by the outbox worker (fairshare.core.jobs)."""

from __future__ import annotations

import pytest

from fairshare.core import jobs
from fairshare.core.jobs import JobFailed, job_create, job_run, job_runner, job_status
from fairshare.core.models import Job, OutboxMessage
from fairshare.core.outbox import outbox_drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def runners(monkeypatch, tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    monkeypatch.setattr(jobs, "_RUNNERS", dict(jobs._RUNNERS))
    seen = {}

    @job_runner("test.ok")
    def ok(job, progress):
        progress("counting", 1, 4)
        seen["live"] = job_status(Job.objects.get(pk=job.pk))  # what a status page shows now
        progress("counting", 4, 4)
        return {"n": job.params["n"] * 2}

    @job_runner("test.refused")
    def refused(job, progress):
        raise JobFailed("2 error(s)", {"errors": ["a", "b"]})

    @job_runner("test.broken")
    def broken(job, progress):
        raise RuntimeError("boom")

    return seen


def test_job_runs_through_the_outbox_with_its_progress(runners):
    job = job_create(kind="test.ok", params={"n": 21})
    assert job.state == Job.State.QUEUED and job_status(job)["percent"] == 0
    assert OutboxMessage.objects.get().payload == {"job": job.pk}
    assert outbox_drain() == {"sent": 1, "retried": 0, "failed": 0}
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.result == {"n": 42}
    assert (job.done, job.total, job.stage) == (4, 4, "counting")
    assert job.started_at and job.finished_at
    live = runners["live"]
    assert live["state"] == "running" and (live["done"], live["total"]) == (1, 4)
    assert live["percent"] == 25
    assert job_status(job)["finished"] and job_status(job)["percent"] == 100


def test_a_job_runs_once_even_when_delivered_twice(runners):
    job = job_create(kind="test.ok", params={"n": 1})
    assert job_run(job_id=job.pk) == Job.State.DONE
    assert job_run(job_id=job.pk) == ""  # already taken: nothing happens
    assert Job.objects.get(pk=job.pk).result == {"n": 2}


def test_refused_and_broken_jobs_are_failed_not_retried(runners):
    refused = job_create(kind="test.refused", params={})
    broken = job_create(kind="test.broken", params={})
    unknown = job_create(kind="test.nobody", params={})
    assert outbox_drain()["sent"] == 3  # the message is done; the job records the outcome
    refused.refresh_from_db()
    broken.refresh_from_db()
    unknown.refresh_from_db()
    assert refused.state == "failed" and refused.result == {"errors": ["a", "b"]}
    assert refused.error == "2 error(s)"
    assert broken.state == "failed" and "boom" in broken.error
    assert unknown.state == "failed" and "no job runner" in unknown.error


@pytest.mark.parametrize("redis", [True, False])
def test_live_progress_reaches_another_node_through_redis(runners, settings, tmp_path, redis):
    """With REDIS_URL the job page of another node (another data folder) shows the live
    figures; the control without it sees only the worker's own file."""
    from django.test import override_settings

    settings.REDIS_URL = "redis://127.0.0.1:6379/0" if redis else ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    @job_runner("test.nodes")
    def nodes(job, progress):
        progress("counting", 3, 4)
        with override_settings(PRIVATE_MEDIA_ROOT=tmp_path / "other-node"):
            runners["other"] = job_status(Job.objects.get(pk=job.pk))
        return {}

    job_create(kind="test.nodes", params={})
    outbox_drain()
    other = runners["other"]
    assert other["state"] == "running"
    assert (other["done"], other["percent"]) == ((3, 75) if redis else (0, 0))
