"""Offline batches: sync, conflicts between batches, replay, forged tokens, typed codes,
sale times bounded by the upload time, the clock skew and the offline window."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, time, timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from fairshare.allocation.models import Voucher
from fairshare.allocation.tokens import code_display, token_sign, voucher_claims
from fairshare.pharmacy.models import (
    ForgedTokenLog,
    OfflineItem,
    Redemption,
    RedemptionConflict,
)
from tests.factories import VoucherFactory
from tests.pharmacy.conftest import bearer_for
from tests.pharmacy.factories import sibling_voucher

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _issued_earlier(voucher):
    """The test voucher went out yesterday (a sale dated before its issue is a conflict)."""
    Voucher.objects.filter(pk=voucher.pk).update(issued_at=timezone.now() - timedelta(days=1))
    voucher.refresh_from_db()


def signed(voucher: Voucher) -> str:
    return token_sign(voucher_claims(voucher))


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
    second = sync(client, voucher.pharmacy.code, headers, "b-2", [item(token, 10, "T2")])
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
    response = sync(client, voucher.pharmacy.code, headers, "b-1", [item(signed(voucher))])
    answer = response.json()["items"][0]
    assert answer["outcome"] == "conflict" and answer["reason"] == "already_redeemed"
    assert RedemptionConflict.objects.get().first_redemption.channel == "online"


def test_replaying_a_batch_changes_nothing_and_answers_the_same(client, voucher, owner):
    headers = bearer_for(owner)
    other = sibling_voucher(voucher)
    items = [item(signed(voucher)), item(signed(other)), item("BAD")]
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
    changed = sync(client, voucher.pharmacy.code, headers, "b-1", [item(signed(voucher))])
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
    response = sync(client, other_code, bearer_for(stranger), "b-x", [item(token)])
    assert response.json()["items"][0]["reason"] == "other_pharmacy"
    # ... and nobody syncs into another pharmacy's terminal.
    assert sync(client, voucher.pharmacy.code, bearer_for(stranger), "b-y", []).status_code in (
        403,
        422,
    )
    assert not Redemption.objects.exists()


def test_same_voucher_twice_in_one_batch_counts_once(client, voucher, owner):
    headers = bearer_for(owner)
    items = [item(signed(voucher), 3), item(signed(voucher), 8)]
    answers = sync(client, voucher.pharmacy.code, headers, "b-d", items).json()["items"]
    assert sorted(a["outcome"] for a in answers) == ["duplicate", "redeemed"]
    # The earlier sale (8 minutes ago, position 1) is the one recorded.
    assert answers[1]["outcome"] == "redeemed"
    assert Redemption.objects.count() == 1


def test_offline_sale_while_valid_then_expired_on_server_is_a_conflict(client, voucher, owner):
    Voucher.objects.filter(pk=voucher.pk).update(status=Voucher.Status.EXPIRED)
    batch = [item(signed(voucher))]
    response = sync(client, voucher.pharmacy.code, bearer_for(owner), "b-e", batch)
    answer = response.json()["items"][0]
    assert answer["outcome"] == "conflict" and answer["reason"] == "expired"
    assert RedemptionConflict.objects.get().first_redemption is None


def test_future_terminal_clock_is_clamped(client, voucher, owner):
    """A sale dated beyond the upload time + skew is clamped to the upload time (the
    sale day is the upload day), noted on the item, and still redeems."""
    before = timezone.now()
    future = {
        "code": signed(voucher),
        "redeemed_at": (timezone.now() + timedelta(hours=5)).isoformat(),
    }
    response = sync(client, voucher.pharmacy.code, bearer_for(owner), "b-c", [future])
    answer = response.json()["items"][0]
    assert answer["outcome"] == "redeemed" and answer["reason"] == "clock_ahead"
    redemption = Redemption.objects.get()
    assert before <= redemption.redeemed_at <= timezone.now()
    assert OfflineItem.objects.get().redeemed_at == redemption.redeemed_at


def test_terminal_clock_ahead_within_skew_is_clamped_silently(client, voucher, owner):
    future = {
        "code": signed(voucher),
        "redeemed_at": (timezone.now() + timedelta(minutes=3)).isoformat(),
    }
    answer = sync(client, voucher.pharmacy.code, bearer_for(owner), "b-s", [future]).json()
    assert answer["items"][0]["outcome"] == "redeemed" and answer["items"][0]["reason"] == ""
    assert Redemption.objects.get().redeemed_at <= timezone.now()


# --- typed codes and backdated sales -------------------------------------------------


def assert_conflict(response, voucher: Voucher, reason: str) -> None:
    """One conflict with ``reason``, recorded (RedemptionConflict, the day's
    reconciliation), and the voucher not redeemed."""
    assert response.status_code == 200, response.content
    answer = response.json()["items"][0]
    assert (answer["outcome"], answer["reason"]) == ("conflict", reason), answer
    assert answer["detail"]
    assert response.json()["counts"]["conflict"] == 1
    assert not Redemption.objects.filter(voucher=voucher).exists()
    voucher_before = voucher.status
    voucher.refresh_from_db()
    assert voucher.status == voucher_before and voucher.redeemed_at is None
    conflict = RedemptionConflict.objects.get(voucher=voucher)
    assert conflict.item.reason == reason and conflict.first_redemption is None


def reconciliation_conflicts(client: Client, voucher: Voucher, headers: dict) -> list:
    recon = client.get(
        f"/api/v1/pharmacies/{voucher.pharmacy.code}/reconciliation",
        {"date": voucher.date.isoformat()},
        **headers,
    )
    assert recon.status_code == 200
    return recon.json()["conflicts"]


@pytest.mark.parametrize("shown", ["canonical", "display"])
def test_typed_code_in_a_batch_is_a_conflict_never_a_sale(client, voucher, owner, shown):
    headers = bearer_for(owner)
    typed = voucher.code if shown == "canonical" else code_display(voucher.code)
    response = sync(client, voucher.pharmacy.code, headers, "b-t", [item(typed)])
    assert_conflict(response, voucher, "typed_code")
    rows = reconciliation_conflicts(client, voucher, headers)
    assert [row["reason"] for row in rows] == ["typed_code"]
    # The voucher is still good for a genuine (scanned) sale afterwards.
    later = sync(client, voucher.pharmacy.code, headers, "b-t2", [item(signed(voucher))])
    assert later.json()["items"][0]["outcome"] == "redeemed"


def test_typed_code_of_an_unknown_voucher_is_rejected(client, voucher, owner):
    """Nothing to attach a conflict to: a made-up code is rejected, as before."""
    other = sibling_voucher(voucher)
    code = other.code
    other.delete()
    response = sync(client, voucher.pharmacy.code, bearer_for(owner), "b-u", [item(code)])
    answer = response.json()["items"][0]
    assert (answer["outcome"], answer["reason"]) == ("rejected", "unknown")
    assert not RedemptionConflict.objects.exists() and not Redemption.objects.exists()


def expired_yesterday_voucher(pharmacy_voucher: Voucher, *, status: str) -> Voucher:
    """A voucher of the same pharmacy valid two days ago to yesterday, issued before."""
    today = timezone.localdate()
    voucher = VoucherFactory(
        committee=pharmacy_voucher.committee,
        registration__household__building__committee=pharmacy_voucher.committee,
        declaration__supply_day__date=today - timedelta(days=2),
        valid_until=today - timedelta(days=1),
        status=status,
    )
    assert voucher.pharmacy == pharmacy_voucher.pharmacy
    Voucher.objects.filter(pk=voucher.pk).update(issued_at=timezone.now() - timedelta(days=3))
    voucher.refresh_from_db()
    return voucher


def local(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.mark.parametrize("status", [Voucher.Status.ISSUED, Voucher.Status.EXPIRED])
def test_backdated_sale_inside_validity_but_before_the_window_is_a_conflict(
    client, voucher, owner, status
):
    """Expired yesterday (the expiry job may or may not have run); the batch claims a
    sale two days ago, inside the validity but before upload − offline window."""
    old = expired_yesterday_voucher(voucher, status=status)
    at = local(old.date, 9)
    assert at < timezone.now() - timedelta(hours=24, minutes=10)
    batch = [{"code": signed(old), "redeemed_at": at.isoformat(), "terminal_id": "T1"}]
    response = sync(client, voucher.pharmacy.code, bearer_for(owner), "b-old", batch)
    assert_conflict(response, old, "outside_offline_window")
    rows = reconciliation_conflicts(client, old, bearer_for(owner))
    assert [row["reason"] for row in rows] == ["outside_offline_window"]


def test_sale_within_validity_uploaded_days_later_is_a_conflict(client, voucher, owner):
    """A genuine token, a sale time inside the validity, but synced 3 days later: past
    the offline window."""
    old = expired_yesterday_voucher(voucher, status=Voucher.Status.ISSUED)
    at = local(old.valid_until, 12)
    with override_settings(FAIRSHARE_OFFLINE_MAX_HOURS=1):
        batch = [{"code": signed(old), "redeemed_at": at.isoformat()}]
        response = sync(client, voucher.pharmacy.code, bearer_for(owner), "b-late", batch)
    assert_conflict(response, old, "outside_offline_window")


def test_sale_claimed_after_validity_is_a_conflict(client, voucher, owner):
    """Within the offline window, but on a day the voucher was no longer valid."""
    old = expired_yesterday_voucher(voucher, status=Voucher.Status.ISSUED)
    at = timezone.now() - timedelta(minutes=1)
    assert timezone.localdate(at) > old.valid_until
    batch = [{"code": signed(old), "redeemed_at": at.isoformat()}]
    response = sync(client, voucher.pharmacy.code, bearer_for(owner), "b-after", batch)
    assert_conflict(response, old, "not_valid_at_sale")


def test_sale_claimed_before_issue_or_after_cancellation_is_a_conflict(client, voucher, owner):
    headers = bearer_for(owner)
    Voucher.objects.filter(pk=voucher.pk).update(issued_at=timezone.now())
    voucher.refresh_from_db()
    early = item(signed(voucher), minutes_ago=30)
    if timezone.localdate(datetime.fromisoformat(early["redeemed_at"])) == voucher.date:
        response = sync(client, voucher.pharmacy.code, headers, "b-pre", [early])
        assert_conflict(response, voucher, "before_issue")
        RedemptionConflict.objects.all().delete()
    Voucher.objects.filter(pk=voucher.pk).update(status=Voucher.Status.CANCELLED)
    voucher.refresh_from_db()
    response = sync(client, voucher.pharmacy.code, headers, "b-cx", [item(signed(voucher), 0)])
    assert_conflict(response, voucher, "cancelled")


def test_valid_offline_sale_within_the_window_still_redeems(client, voucher, owner):
    """Yesterday's voucher sold yesterday while the terminal was offline, synced today
    within the window (48 h here, so the test does not depend on the hour it runs)."""
    old = expired_yesterday_voucher(voucher, status=Voucher.Status.ISSUED)
    at = local(old.valid_until, 12)
    with override_settings(FAIRSHARE_OFFLINE_MAX_HOURS=48):
        batch = [{"code": signed(old), "redeemed_at": at.isoformat()}, item(signed(voucher))]
        response = sync(client, voucher.pharmacy.code, bearer_for(owner), "b-ok", batch)
    assert [a["outcome"] for a in response.json()["items"]] == ["redeemed", "redeemed"]
    assert Redemption.objects.get(voucher=old).redeemed_at == at
    assert not RedemptionConflict.objects.exists()


def _settings_with(tmp_path, **env: str) -> subprocess.CompletedProcess:
    code = (
        "import fairshare.settings as s; "
        "print(s.FAIRSHARE_OFFLINE_CLOCK_SKEW_MINUTES, s.FAIRSHARE_OFFLINE_MAX_HOURS)"
    )
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FAIRSHARE_OFFLINE_")}
    environ = {**inherited, "FAIRSHARE_DATA_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_offline_settings_are_parsed_strictly(tmp_path):
    default = _settings_with(tmp_path)
    assert default.returncode == 0, default.stderr
    assert default.stdout.split() == ["10", "24"]
    chosen = _settings_with(
        tmp_path, FAIRSHARE_OFFLINE_CLOCK_SKEW_MINUTES="5", FAIRSHARE_OFFLINE_MAX_HOURS="12"
    )
    assert chosen.stdout.split() == ["5", "12"]
    for bad in ({"FAIRSHARE_OFFLINE_MAX_HOURS": "24h"}, {"FAIRSHARE_OFFLINE_MAX_HOURS": "0"}):
        result = _settings_with(tmp_path, **bad)
        assert result.returncode != 0 and "FAIRSHARE_OFFLINE_MAX_HOURS" in result.stderr
    result = _settings_with(tmp_path, FAIRSHARE_OFFLINE_CLOCK_SKEW_MINUTES="-1")
    assert result.returncode != 0 and "FAIRSHARE_OFFLINE_CLOCK_SKEW_MINUTES" in result.stderr
