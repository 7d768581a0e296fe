"""Invariant 4 under concurrency: 20 simultaneous redeem calls, exactly one succeeds.

The threads go through the real API (bearer tokens of two pharmacy accounts: the
voucher's own pharmacy and another one). Next to it, a naive read-check-write
variant (used only here) shows the race is real without the conditional update.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from fairshare.allocation.models import Voucher
from fairshare.pharmacy.models import Redemption
from tests.factories import PharmacyFactory, UserFactory, VoucherFactory
from tests.pharmacy.conftest import bearer_for

THREADS = 20


def _run_threads(work) -> list:
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS
    errors: list[BaseException] = []

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def _twenty_redeems_one_wins() -> None:
    voucher = VoucherFactory()
    owner = UserFactory(role="pharmacy", pharmacy=voucher.pharmacy)
    other = UserFactory(
        role="pharmacy", pharmacy=PharmacyFactory(subdistrict=voucher.pharmacy.subdistrict)
    )
    headers = [bearer_for(owner), bearer_for(other)]

    def work(index: int) -> tuple[int, int]:
        who = index % 2  # 10 calls from the owner, 10 from the other pharmacy
        response = Client().post(
            f"/api/v1/vouchers/{voucher.code}/redeem",
            {},
            content_type="application/json",
            **headers[who],
        )
        return who, response.status_code

    results = _run_threads(work)
    by_caller = Counter(results)
    assert by_caller[(0, 200)] == 1, by_caller
    assert by_caller[(0, 409)] == THREADS // 2 - 1, by_caller
    assert by_caller[(1, 403)] == THREADS // 2, by_caller
    assert sum(1 for _who, status in results if status == 200) == 1
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.REDEEMED and voucher.redeemed_by == owner
    assert Redemption.objects.filter(voucher=voucher).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_redeems_yield_exactly_one_200_postgres():
    _twenty_redeems_one_wins()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_redeems_yield_exactly_one_200_any_database():
    _twenty_redeems_one_wins()


def _naive_redeem(voucher_id: int) -> bool:
    """Read, check, then write unconditionally: what the conditional UPDATE prevents."""
    voucher = Voucher.objects.get(pk=voucher_id)
    if voucher.status != Voucher.Status.ISSUED:
        return False
    time.sleep(0.05)  # widen the window between the check and the write
    Voucher.objects.filter(pk=voucher_id).update(
        status=Voucher.Status.REDEEMED, redeemed_at=timezone.now()
    )
    return True


@pytest.mark.django_db(transaction=True)
def test_race_is_real_without_the_conditional_update():
    voucher = VoucherFactory()
    results = _run_threads(lambda _index: _naive_redeem(voucher.pk))
    assert sum(results) > 1  # several "successful" sales of one voucher


@pytest.mark.django_db(transaction=True)
def test_concurrent_keyed_redemptions_commit_with_their_idempotency_records(monkeypatch):
    """16 simultaneous keyed sales through the API (on SQLite they share COMMITs, see
    core/groupcommit.py): 12 vouchers, 4 of them scanned again at a second till. Each
    voucher is sold once; each answer is stored under its key in the transaction of the
    sale; a sale whose key record cannot be written is rolled back with it."""
    from fairshare.core import idempotency
    from fairshare.core.models import AuditLog, IdempotencyRecord
    from tests.pharmacy.factories import sibling_voucher

    first = VoucherFactory()
    vouchers = [first] + [sibling_voucher(first) for _ in range(11)]
    owner = UserFactory(role="pharmacy", pharmacy=first.pharmacy)
    auth = bearer_for(owner)
    jobs = [(vouchers[i].code, f"k-{i}") for i in range(12)]
    jobs += [(vouchers[i].code, f"till2-{i}") for i in range(4)]
    real_insert = idempotency.insert_model

    def failing_insert(obj, **kwargs):
        if obj.key == "k-11":
            raise RuntimeError("record write failed")
        return real_insert(obj, **kwargs)

    monkeypatch.setattr(idempotency, "insert_model", failing_insert)
    gate = threading.Barrier(len(jobs))
    results: dict[str, object] = {}

    def work(index: int) -> None:
        code, key = jobs[index]
        try:
            gate.wait(timeout=30)
            # The test client's exception signal reaches every client with a request in
            # flight: read the 500 instead of re-raising (the log shows the error).
            response = Client(raise_request_exception=False).post(
                f"/api/v1/vouchers/{code}/redeem",
                {},
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=key,
                **auth,
            )
            results[key] = (
                (response.status_code, response.json())
                if response.status_code != 500
                else (500, None)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results["k-11"] == (500, None)
    failed = vouchers[11]
    failed.refresh_from_db()
    assert failed.status == Voucher.Status.ISSUED
    assert not Redemption.objects.filter(voucher=failed).exists()
    assert not AuditLog.objects.filter(action="voucher.redeem", object_id=str(failed.pk)).exists()
    for i in range(11):
        statuses = sorted(results[key][0] for key in (f"k-{i}", f"till2-{i}") if key in results)
        assert statuses == ([200, 409] if i < 4 else [200]), (i, statuses)
        assert Redemption.objects.filter(voucher=vouchers[i]).count() == 1
    records = {r.key: r for r in IdempotencyRecord.objects.all()}
    assert "k-11" not in records
    assert set(records) == {key for key in results if key != "k-11"}
    for key, record in records.items():
        assert (record.status_code, record.body) == results[key]
    # A retry with the same key answers the stored result without selling again.
    status, body = results["k-0"]
    again = Client().post(
        f"/api/v1/vouchers/{vouchers[0].code}/redeem",
        {},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-0",
        **auth,
    )
    assert (again.status_code, again.json()) == (status, body)
    assert AuditLog.objects.filter(action="voucher.redeem").count() == 11
