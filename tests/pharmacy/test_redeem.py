"""Redeeming one voucher: every answer of POST /vouchers/{code}/redeem and the service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.allocation.models import Voucher
from fairshare.allocation.tokens import code_display, code_new, token_sign, voucher_claims
from fairshare.core.models import AuditLog
from fairshare.pharmacy.models import ForgedTokenLog, Redemption
from tests.factories import UserFactory
from tests.pharmacy.conftest import bearer_for
from tests.pharmacy.factories import sibling_voucher

pytestmark = pytest.mark.django_db


def redeem(client: Client, code: str, headers: dict, **extra):
    return client.post(
        f"/api/v1/vouchers/{code}/redeem", {}, content_type="application/json", **headers, **extra
    )


def test_typed_code_redeems_once_then_409_with_when_and_where(client, voucher, owner):
    headers = bearer_for(owner)
    typed = code_display(voucher.code).lower().replace("-", " ")
    response = redeem(client, typed, headers)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "redeemed"
    assert body["household"] == "张*明"
    assert body["batch"]["unit_price"] == "12.50"
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.REDEEMED and voucher.redeemed_by == owner
    assert Redemption.objects.get(voucher=voucher).channel == "online"
    assert AuditLog.objects.filter(action="voucher.redeem", object_id=str(voucher.pk)).count() == 1

    again = redeem(client, voucher.code, headers)
    assert again.status_code == 409
    assert again.json()["code"] == "already_redeemed"
    assert again.json()["pharmacy"] == voucher.pharmacy.code
    assert again.json()["redeemed_at"]
    assert "已" in again.json()["detail"] or "Already" in again.json()["detail"]


def test_qr_token_redeems(client, voucher, owner):
    token = token_sign(voucher_claims(voucher))
    response = redeem(client, token, bearer_for(owner))
    assert response.status_code == 200
    assert Redemption.objects.filter(voucher=voucher).exists()


def test_other_pharmacy_gets_403_and_nothing_changes(client, voucher, stranger):
    response = redeem(client, voucher.code, bearer_for(stranger))
    assert response.status_code == 403
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.ISSUED


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"valid_until_days": -1, "date_days": -2}, "expired"),
        ({"date_days": 1, "valid_until_days": 2}, "not_yet_valid"),
        ({"status": "cancelled"}, "cancelled"),
        ({"status": "expired"}, "expired"),
    ],
)
def test_gone_answers_410(client, voucher, owner, change, code):
    today = timezone.localdate()
    updates = {}
    if "date_days" in change:
        updates["date"] = today + timedelta(days=change["date_days"])
    if "valid_until_days" in change:
        updates["valid_until"] = today + timedelta(days=change["valid_until_days"])
    if "status" in change:
        updates["status"] = change["status"]
    Voucher.objects.filter(pk=voucher.pk).update(**updates)
    response = redeem(client, voucher.code, bearer_for(owner))
    assert response.status_code == 410
    assert response.json()["code"] == code
    assert not Redemption.objects.exists()


def test_unknown_404_malformed_422(client, voucher, owner):
    headers = bearer_for(owner)
    other = code_new()  # well-formed but never issued
    assert redeem(client, other, headers).status_code == 404
    response = redeem(client, "ABC-123", headers)
    assert response.status_code == 422
    assert "code" in response.json()["errors"]
    # A single wrong character fails the check character.
    wrong = voucher.code[:3] + ("3" if voucher.code[3] != "3" else "4") + voucher.code[4:]
    assert redeem(client, wrong, headers).status_code in (404, 422)
    assert not Redemption.objects.exists()


def test_forged_and_tampered_tokens_are_refused_and_logged(client, voucher, owner):
    headers = bearer_for(owner)
    token = token_sign(voucher_claims(voucher))
    prefix, payload, signature = token.split(".")
    forged_sig = prefix + "." + payload + "." + ("A" * len(signature))
    response = redeem(client, forged_sig, headers)
    assert response.status_code == 422 and "code" in response.json()["errors"]
    # A genuine token of another voucher with its payload swapped in: signature fails.
    other = sibling_voucher(voucher)
    other_token = token_sign(voucher_claims(other))
    tampered = f"{prefix}.{other_token.split('.')[1]}.{signature}"
    assert redeem(client, tampered, headers).status_code == 422
    assert ForgedTokenLog.objects.filter(pharmacy=voucher.pharmacy).count() == 2
    assert ForgedTokenLog.objects.first().actor == owner
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.ISSUED


def test_genuine_token_of_another_round_is_refused(client, voucher, owner):
    claims = voucher_claims(voucher) | {"r": voucher.round_id + 1000}
    response = redeem(client, token_sign(claims), bearer_for(owner))
    assert response.status_code == 422
    assert ForgedTokenLog.objects.get().reason == "claims_mismatch"
    assert not Redemption.objects.exists()


def test_idempotency_key_replays_the_first_answer(client, voucher, owner):
    headers = bearer_for(owner)
    first = redeem(client, voucher.code, headers, HTTP_IDEMPOTENCY_KEY="k-1")
    retry = redeem(client, voucher.code, headers, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == retry.status_code == 200
    assert first.json() == retry.json()
    assert Redemption.objects.count() == 1
    assert redeem(client, voucher.code, headers, HTTP_IDEMPOTENCY_KEY="k-2").status_code == 409


def test_non_pharmacy_staff_cannot_redeem(client, voucher):
    committee_staff = UserFactory(role="committee", committee=voucher.committee)
    assert redeem(client, voucher.code, bearer_for(committee_staff)).status_code == 403
    assert client.post(f"/api/v1/vouchers/{voucher.code}/redeem").status_code == 401


def test_terminal_lookup_is_pharmacy_scoped(client, voucher, owner, stranger):
    response = client.get(f"/api/v1/vouchers/{voucher.code}", **bearer_for(owner))
    assert response.status_code == 200
    body = response.json()
    assert body["household"] == "张*明" and "张三明" not in response.content.decode()
    assert body["packs"] == 1 and body["status"] == "issued"
    assert client.get(f"/api/v1/vouchers/{voucher.code}", **bearer_for(stranger)).status_code == 403
    token = token_sign(voucher_claims(voucher))
    assert client.get(f"/api/v1/vouchers/{token}", **bearer_for(owner)).status_code == 200


def test_public_key_endpoint_verifies_tokens(client, voucher):
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    body = client.get("/api/v1/public/voucher-key").json()
    assert body["alg"] == "Ed25519"
    raw = base64.urlsafe_b64decode(body["key"] + "=" * (-len(body["key"]) % 4))
    key = Ed25519PublicKey.from_public_bytes(raw)
    token = token_sign(voucher_claims(voucher))
    prefix, payload, signature = token.split(".")
    sig = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    key.verify(sig, f"{prefix}.{payload}".encode())  # raises when wrong
