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
