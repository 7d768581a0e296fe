"""The pharmacy terminal's refusals are translated and in the user's language only:
Chinese by default, English after the language switch (issue 14: another pharmacy's
voucher answered in English only)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CommitteeFactory, UserFactory
from tests.pharmacy.conftest import bearer_for
from tests.support.language import is_english_only

pytestmark = pytest.mark.django_db


def _english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def test_looking_up_another_pharmacys_voucher(client: Client, voucher, stranger):
    auth = bearer_for(stranger)
    response = client.get(f"/api/v1/vouchers/{voucher.code}", **auth)
    assert response.status_code == 403
    assert response.json()["detail"] == "此凭证属于其他药店。"
    response = _english(client).get(f"/api/v1/vouchers/{voucher.code}", **auth)
    assert response.json()["detail"] == "This voucher belongs to another pharmacy."


def test_redeeming_another_pharmacys_voucher(client: Client, voucher, stranger):
    auth = bearer_for(stranger)
    url = f"/api/v1/vouchers/{voucher.code}/redeem"
    name = voucher.pharmacy.name
    response = client.post(url, content_type="application/json", **auth)
    assert response.status_code == 403
    assert response.json()["detail"] == f"此凭证属于其他药店：{name}。"
    response = _english(client).post(url, content_type="application/json", **auth)
    assert response.json()["detail"] == f"This voucher belongs to another pharmacy: {name}."


def test_syncing_another_pharmacys_batch(client: Client, voucher, stranger):
    auth = bearer_for(stranger)
    url = f"/api/v1/pharmacies/{voucher.pharmacy.code}/offline-redemptions"
    body = {"batch_id": "b-1", "items": []}
    response = client.post(url, body, content_type="application/json", **auth)
    assert response.status_code == 403
    assert response.json()["detail"] == "只能同步本药店的售出记录。"
    response = _english(client).post(url, body, content_type="application/json", **auth)
    assert is_english_only(response.json()["detail"])


def test_the_terminal_refuses_other_roles_in_one_language(client: Client, voucher):
    committee_user = UserFactory(role="committee", committee=voucher.registration.committee)
    auth = bearer_for(committee_user)
    url = f"/api/v1/vouchers/{voucher.code}/redeem"
    response = client.post(url, content_type="application/json", **auth)
    assert response.status_code == 403
    assert response.json()["detail"] == "只有药店工作人员可以使用药店终端。"
    response = _english(client).post(url, content_type="application/json", **auth)
    assert is_english_only(response.json()["detail"])


def test_proxy_purchase_by_a_pharmacy_is_refused_in_one_language(client: Client, owner):
    committee = CommitteeFactory()
    auth = bearer_for(owner)
    url = f"/api/v1/committees/{committee.code}/proxy-purchases"
    body = {"codes": ["X"]}
    response = client.post(url, body, content_type="application/json", **auth)
    assert response.status_code == 403
    assert response.json()["detail"] == "只有居委会工作人员可以代居民购买。"
    response = _english(client).post(url, body, content_type="application/json", **auth)
    assert is_english_only(response.json()["detail"])


def test_a_malformed_code_at_hand_over(client: Client, voucher):
    staff = UserFactory(role="committee", committee=voucher.registration.committee)
    auth = bearer_for(staff)
    url = "/api/v1/vouchers/%21%21/handover"
    body = {"recipient_name": "王五"}
    response = client.post(url, body, content_type="application/json", **auth)
    assert response.status_code == 422, response.content
    assert response.json()["errors"]["code"] == ["这不是有效的凭证码。"]
    response = _english(client).post(url, body, content_type="application/json", **auth)
    assert response.json()["errors"]["code"] == ["This is not a valid voucher code."]


def test_the_scan_page_shows_a_refusal_in_chinese_only(client: Client, voucher, stranger):
    client.force_login(stranger)
    response = client.post("/pharmacy/scan/", {"code": voucher.code, "action": "redeem"})
    assert response.status_code == 403
    text = response.content.decode()
    assert f"此凭证属于其他药店：{voucher.pharmacy.name}。" in text
    assert "another pharmacy" not in text  # was "此凭证属于其他药店：… / This voucher belongs…"
