"""Invariant 4 (docs/invariants.md) under concurrency: 20 simultaneous redeem calls,
exactly one succeeds.

The threads go through the real API (bearer tokens of two pharmacy accounts: the
voucher's own pharmacy and another one). Next to it, the negative control runs the same
calls with the guard switched off: the conditional UPDATE of ``pharmacy/services.py``
without its ``status = 'issued'`` condition (the test replaces the statement's text;
the product has no switch). Then every call of the owner sells the voucher again at
that step, and only the database's last line (one Redemption per voucher, a unique
column) stops the later sales, as errors instead of a clean 409.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from fairshare.allocation.models import Voucher
from fairshare.pharmacy import services
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


def _twenty_redeems(voucher: Voucher, owner) -> Counter:
    """20 simultaneous redeem calls, 10 by the voucher's own pharmacy (``owner``) and 10 by
    another: the count of (caller, status), caller 0 being the owner."""
    other = UserFactory(
        role="pharmacy", pharmacy=PharmacyFactory(subdistrict=voucher.pharmacy.subdistrict)
    )
    headers = [bearer_for(owner), bearer_for(other)]

    def work(index: int) -> tuple[int, int]:
        who = index % 2
        # A sale stopped only by the unique column is a 500: read it, don't re-raise.
        response = Client(raise_request_exception=False).post(
            f"/api/v1/vouchers/{voucher.code}/redeem",
            {},
            content_type="application/json",
            **headers[who],
        )
        return who, response.status_code

    return Counter(_run_threads(work))


def _twenty_redeems_one_wins() -> None:
    voucher = VoucherFactory()
    owner = UserFactory(role="pharmacy", pharmacy=voucher.pharmacy)
    by_caller = _twenty_redeems(voucher, owner)
    assert by_caller[(0, 200)] == 1, by_caller
    assert by_caller[(0, 409)] == THREADS // 2 - 1, by_caller
    assert by_caller[(1, 403)] == THREADS // 2, by_caller
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.REDEEMED
    assert voucher.redeemed_by == owner
    assert Redemption.objects.filter(voucher=voucher).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_redeems_yield_exactly_one_200_postgres():
    _twenty_redeems_one_wins()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_redeems_yield_exactly_one_200_any_database():
    _twenty_redeems_one_wins()


def _switch_the_guard_off(monkeypatch) -> list[int]:
    """The product's conditional UPDATE without ``status = 'issued'``; returns the list of
    its row counts, one per call."""
    real_sql, real_update = services._update_sql, services._conditional_update
    status = connection.ops.quote_name("status")

    def unguarded_sql(vendor: str, set_columns: tuple[str, ...]) -> str:
        head, where = real_sql(vendor, set_columns).split(" WHERE ")
        assert f"{status} = %s" in where  # the guard this test switches off
        return f"{head} WHERE " + where.replace(f"{status} = %s", f"({status} = %s OR TRUE)")

    rows: list[int] = []

    def counted_update(**kwargs) -> int:
        count = real_update(**kwargs)
        rows.append(count)
        return count

    monkeypatch.setattr(services, "_update_sql", unguarded_sql)
    monkeypatch.setattr(services, "_conditional_update", counted_update)
    return rows


def _race_is_real_without_the_guard(monkeypatch) -> None:
    voucher = VoucherFactory()
    owner = UserFactory(role="pharmacy", pharmacy=voucher.pharmacy)
    rows = _switch_the_guard_off(monkeypatch)
    by_caller = _twenty_redeems(voucher, owner)
    # Each of the owner's 10 calls sold the voucher at the guard step (10 × 1 row; the
    # other pharmacy's 10 are still refused by the pharmacy condition: 0 rows)...
    assert sorted(rows) == [0] * (THREADS // 2) + [1] * (THREADS // 2), rows
    # ... so no caller got the clean "already redeemed": one sale committed, the others
    # reached the unique Redemption.voucher column and failed there.
    assert by_caller[(0, 409)] == 0, by_caller
    assert by_caller[(0, 200)] == 1 and by_caller[(0, 500)] == THREADS // 2 - 1, by_caller
    assert Redemption.objects.filter(voucher=voucher).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_race_is_real_without_the_conditional_update_postgres(monkeypatch):
    _race_is_real_without_the_guard(monkeypatch)


@pytest.mark.django_db(transaction=True)
def test_race_is_real_without_the_conditional_update_any_database(monkeypatch):
    _race_is_real_without_the_guard(monkeypatch)


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
