"""Group commit (SQLite): concurrent write transactions share one COMMIT, each is answered
only after it, and one request's error rolls back only that request."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from fairshare.core import groupcommit
from fairshare.core.groupcommit import group_commit
from fairshare.core.locking import write_transaction
from fairshare.core.models import OutboxMessage
from fairshare.core.outbox import outbox_enqueue


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_share_commits_and_errors_stay_isolated(monkeypatch):
    if connection.vendor != "sqlite":  # PostgreSQL merges commits itself: fn runs directly
        assert not groupcommit.group_commit_enabled()
        assert group_commit(lambda: 7) == 7
        return
    commits = {"n": 0}
    real_run = groupcommit._run

    def counting_run(batch):
        commits["n"] += 1
        real_run(batch)

    monkeypatch.setattr(groupcommit, "_run", counting_run)
    gate = threading.Barrier(12)
    results: dict[int, object] = {}

    def work(i: int) -> None:
        def fn():
            with write_transaction():
                outbox_enqueue(kind="gc", payload={"i": i})
                if i == 5:
                    raise ValueError("bad request")
            # visible to the leader's transaction (same connection), not yet committed
            return OutboxMessage.objects.filter(kind="gc", payload__i=i).count()

        gate.wait()
        try:
            results[i] = group_commit(fn)
        except ValueError as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(results[5], ValueError)
    assert all(results[i] == 1 for i in range(12) if i != 5)
    stored = sorted(m.payload["i"] for m in OutboxMessage.objects.filter(kind="gc"))
    assert stored == [i for i in range(12) if i != 5]
    assert 1 <= commits["n"] <= 12


@pytest.mark.django_db(transaction=True)
def test_disabled_or_postgres_runs_the_function_directly(settings):
    settings.GROUP_COMMIT = False
    assert group_commit(lambda: 42) == 42
