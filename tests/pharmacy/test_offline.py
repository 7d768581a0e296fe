"""Offline batches: sync, conflicts between batches, replay, forged tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.allocation.models import Voucher
from fairshare.allocation.tokens import code_display, token_sign, voucher_claims
from fairshare.pharmacy.models import (
    ForgedTokenLog,
    OfflineItem,
    Redemption,
    RedemptionConflict,
)
from tests.pharmacy.conftest import bearer_for
from tests.pharmacy.factories import sibling_voucher

pytestmark = pytest.mark.django_db


def sync(client: Client, pharmacy_code: str, headers: dict, batch_id: str, items: list):
    return client.post(
        f"/api/v1/pharmacies/{pharmacy_code}/offline-redemptions",
        {"batch_id": batch_id, "items": items},
        content_type="application/json",
        **headers,
    )


def item(code: str, minutes_ago: int = 5, terminal: str = "T1") -> dict:
    """A sale ``minutes_ago`` — but never before local midnight: the test vouchers are
    for today, and just after midnight "20 minutes ago" is yesterday, when they were
    not yet valid (older sales keep the earlier times)."""
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    at = max(now - timedelta(minutes=minutes_ago), midnight + timedelta(seconds=60 - minutes_ago))
    return {"code": code, "redeemed_at": at.isoformat(), "terminal_id": terminal}


def test_two_batches_same_voucher_one_redemption_one_conflict(client, voucher, owner):
    headers = bearer_for(owner)
    token = token_sign(voucher_claims(voucher))
    first = sync(client, voucher.pharmacy.code, headers, "b-1", [item(token, 20, "T1")])
    assert first.status_code == 200, first.json()
    assert first.json()["items"][0]["outcome"] == "redeemed"
    second = sync(client, voucher.pharmacy.code, headers, "b-2", [item(voucher.code, 10, "T2")])
    assert second.status_code == 200
    answer = second.json()["items"][0]
    assert answer["outcome"] == "conflict" and answer["reason"] == "already_redeemed"
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    redemption = Redemption.objects.get(voucher=voucher)
    assert redemption.channel == "offline" and redemption.terminal_id == "T1"
    conflict = RedemptionConflict.objects.get()
    assert conflict.voucher == voucher and conflict.first_redemption == redemption
    assert conflict.item.terminal_id == "T2"
    # The conflict shows in the day's reconciliation.
    recon = client.get(f"/api/v1/pharmacies/{voucher.pharmacy.code}/reconciliation", **headers)
    assert recon.json()["totals"]["conflicts"] == 1
    assert recon.json()["totals"]["redeemed"] == 1


def test_offline_sale_after_online_redeem_is_a_conflict(client, voucher, owner):
    headers = bearer_for(owner)
    online = client.post(
        f"/api/v1/vouchers/{voucher.code}/redeem", {}, content_type="application/json", **headers
    )
    assert online.status_code == 200
    response = sync(client, voucher.pharmacy.code, headers, "b-1", [item(voucher.code)])
    assert response.json()["items"][0]["outcome"] == "conflict"
    assert RedemptionConflict.objects.get().first_redemption.channel == "online"


def test_replaying_a_batch_changes_nothing_and_answers_the_same(client, voucher, owner):
    headers = bearer_for(owner)
    other = sibling_voucher(voucher)
    items = [item(voucher.code), item(code_display(other.code)), item("BAD")]
    first = sync(client, voucher.pharmacy.code, headers, "b-1", items)
    assert first.json()["counts"] == {
        "redeemed": 2,
        "duplicate": 0,
        "conflict": 0,
        "rejected": 1,
    }
    counts = (Redemption.objects.count(), OfflineItem.objects.count())
    replay = sync(client, voucher.pharmacy.code, headers, "b-1", items)
    assert replay.status_code == 200
    assert replay.json()["items"] == first.json()["items"]
    assert replay.json()["replay"] is True
    assert (Redemption.objects.count(), OfflineItem.objects.count()) == counts
    assert not RedemptionConflict.objects.exists()
    # The same batch id with other items is refused, nothing changes.
    changed = sync(client, voucher.pharmacy.code, headers, "b-1", [item(voucher.code)])
    assert changed.status_code == 422 and "batch_id" in changed.json()["errors"]
    assert (Redemption.objects.count(), OfflineItem.objects.count()) == counts


def test_forged_token_rejected_and_logged_other_pharmacy_rejected(client, voucher, owner, stranger):
    headers = bearer_for(owner)
    token = token_sign(voucher_claims(voucher))
    prefix, payload, signature = token.split(".")
    forged = f"{prefix}.{payload}.{'B' * len(signature)}"
    response = sync(client, voucher.pharmacy.code, headers, "b-f", [item(forged)])
    answer = response.json()["items"][0]
    assert answer["outcome"] == "rejected" and answer["reason"] == "forged"
    log = ForgedTokenLog.objects.get()
    assert log.channel == "offline" and log.terminal_id == "T1" and log.pharmacy == voucher.pharmacy
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.ISSUED
    # A pharmacy syncing another pharmacy's voucher: rejected, nothing redeemed.
    other_code = stranger.pharmacy.code
    response = sync(client, other_code, bearer_for(stranger), "b-x", [item(voucher.code)])
    assert response.json()["items"][0]["reason"] == "other_pharmacy"
    # ... and nobody syncs into another pharmacy's terminal.
    assert sync(client, voucher.pharmacy.code, bearer_for(stranger), "b-y", []).status_code in (
        403,
        422,
    )
    assert not Redemption.objects.exists()


def test_same_voucher_twice_in_one_batch_counts_once(client, voucher, owner):
    headers = bearer_for(owner)
    items = [item(voucher.code, 3), item(voucher.code, 8)]
    answers = sync(client, voucher.pharmacy.code, headers, "b-d", items).json()["items"]
    assert sorted(a["outcome"] for a in answers) == ["duplicate", "redeemed"]
    # The earlier sale (8 minutes ago, position 1) is the one recorded.
    assert answers[1]["outcome"] == "redeemed"
    assert Redemption.objects.count() == 1


def test_offline_sale_while_valid_then_expired_on_server_is_a_conflict(client, voucher, owner):
    Voucher.objects.filter(pk=voucher.pk).update(status=Voucher.Status.EXPIRED)
    response = sync(client, voucher.pharmacy.code, bearer_for(owner), "b-e", [item(voucher.code)])
    answer = response.json()["items"][0]
    assert answer["outcome"] == "conflict" and answer["reason"] == "expired"
    assert RedemptionConflict.objects.get().first_redemption is None


def test_future_terminal_clock_is_clamped(client, voucher, owner):
    future = {
        "code": voucher.code,
        "redeemed_at": (timezone.now() + timedelta(hours=5)).isoformat(),
    }
    sync(client, voucher.pharmacy.code, bearer_for(owner), "b-c", [future])
    assert Redemption.objects.get().redeemed_at <= timezone.now()
