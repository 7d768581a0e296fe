"""Pharmacy pages (typed-code path), reconciliation XLSX, proxy purchase (the public stock
feed: test_stock_feed.py)."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from fairshare.allocation.models import Voucher
from fairshare.allocation.tokens import code_display
from fairshare.pharmacy.models import Handover, Redemption
from fairshare.pharmacy.selectors import voucher_fulfilment
from tests.factories import CommitteeFactory, UserFactory
from tests.pharmacy.conftest import bearer_for
from tests.pharmacy.factories import sibling_voucher

pytestmark = pytest.mark.django_db


def login(client: Client, user) -> None:
    client.force_login(user)


def test_pages_need_pharmacy_staff(client, voucher, owner):
    assert client.get("/pharmacy/").status_code == 302  # login first
    login(client, UserFactory(role="committee", committee=voucher.committee))
    assert client.get("/pharmacy/scan/").status_code == 403
    login(client, owner)
    home = client.get("/pharmacy/")
    assert home.status_code == 200
    assert code_display(voucher.code) in home.content.decode()
    assert "张三明" not in home.content.decode()


def test_typed_code_lookup_then_sale_through_the_page(client, voucher, owner):
    client.force_login(owner)
    page = client.get("/pharmacy/scan/")
    html = page.content.decode()
    assert "scan.js" in html and "jsQR.js" in html and "<script>" not in html
    shown = client.post("/pharmacy/scan/", {"code": code_display(voucher.code), "action": "lookup"})
    text = shown.content.decode()
    assert "张*明" in text and "12.50" in text and 'value="redeem"' in text
    sold = client.post("/pharmacy/scan/", {"code": voucher.code, "action": "redeem"})
    assert sold.status_code == 200
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.REDEEMED
    again = client.post("/pharmacy/scan/", {"code": voucher.code, "action": "redeem"})
    assert "notice-error" in again.content.decode()
    assert Redemption.objects.count() == 1


def test_session_api_call_needs_csrf(voucher, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url = f"/api/v1/vouchers/{voucher.code}/redeem"
    assert client.post(url, {}, content_type="application/json").status_code in (401, 403)
    client.get("/pharmacy/scan/")
    token = client.cookies["csrftoken"].value
    response = client.post(url, {}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_reconciliation_page_and_xlsx(client, voucher, owner):
    sibling_voucher(voucher)
    client.post(
        f"/api/v1/vouchers/{voucher.code}/redeem",
        {},
        content_type="application/json",
        **bearer_for(owner),
    )
    client.force_login(owner)
    assert client.get("/pharmacy/reconciliation/").status_code == 200
    response = client.get("/pharmacy/reconciliation.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheets = ["当日汇总", "按时段", "按批次", "购买方", "居委会集中领取点", "离线冲突"]
    assert book.sheetnames == sheets
    summary = {row[0]: row[1] for row in book["当日汇总"].iter_rows(values_only=True)}
    assert summary["已发放"] == 2 and summary["已购买"] == 1 and summary["未购买"] == 1
    batch_rows = list(book["按批次"].iter_rows(values_only=True))
    assert batch_rows[1][1:3] == ("是", 100)  # the current batch and its supply


RAW_KEYS = {"delivery", "pickup", "pickup_point", "scan", "cash", "committee", "counter"}
RAW_KEYS |= {"emergency", "issued", "redeemed", "outstanding", "expired", "cancelled"}
RAW_KEYS |= {"conflicts", "online", "offline", "proxy", "summary", "by_slot", "by_batch"}


def _texts(book) -> set[str]:
    cells = {v for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row}
    return {v for v in cells if isinstance(v, str)} | set(book.sheetnames)


def test_reconciliation_xlsx_shows_labels_never_raw_keys(client, voucher, owner):
    """Every sheet name, header and enumerated value of the workbook is a Chinese label."""
    from fairshare.pharmacy.reconciliation_xlsx import COUNT_COLUMNS, reconciliation_book
    from fairshare.pharmacy.selectors import reconciliation

    client.post(
        f"/api/v1/vouchers/{voucher.code}/redeem",
        {},
        content_type="application/json",
        **bearer_for(owner),
    )
    client.force_login(owner)
    book = load_workbook(io.BytesIO(client.get("/pharmacy/reconciliation.xlsx").content))
    texts = _texts(book)
    assert {"已购买", "购买方", "药店柜台售出", "当日汇总"} <= texts
    assert not texts & RAW_KEYS, texts & RAW_KEYS
    # Negative control: the raw keys of the same day's figures would be caught.
    data = reconciliation(pharmacy=voucher.pharmacy, day=voucher.date)
    assert set(data["sales"]) | {key for key, _label in COUNT_COLUMNS} <= RAW_KEYS
    with translation.override("en"):
        english = _texts(load_workbook(io.BytesIO(reconciliation_book(data))))
    assert "Bought" in english and not english & RAW_KEYS


def test_proxy_batch_then_handover_and_delivery(client, voucher):
    staff = UserFactory(role="committee", committee=voucher.committee)
    second = sibling_voucher(voucher)
    headers = bearer_for(staff)
    response = client.post(
        f"/api/v1/committees/{voucher.committee.code}/proxy-purchases",
        {"codes": [voucher.code, code_display(second.code), "NOPE"]},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["redeemed"] == 2
    assert [item["outcome"] for item in body["items"]] == ["redeemed", "redeemed", "rejected"]
    assert Redemption.objects.filter(channel="proxy").count() == 2
    voucher.refresh_from_db()
    assert voucher.fulfilment == "proxy"
    handed = client.post(
        f"/api/v1/vouchers/{voucher.code}/handover",
        {"recipient_name": "李四"},
        content_type="application/json",
        **headers,
    )
    assert handed.status_code == 200
    assert handed.json()["handover"]["kind"] == "pickup_point"
    again = client.post(
        f"/api/v1/vouchers/{voucher.code}/handover",
        {"recipient_name": "李四"},
        content_type="application/json",
        **headers,
    )
    assert again.status_code == 409
    delivered = client.post(
        f"/api/v1/vouchers/{second.code}/delivery",
        {"recipient_name": "王五"},
        content_type="application/json",
        **headers,
    )
    assert delivered.status_code == 200
    second.refresh_from_db()
    status = voucher_fulfilment(second)
    assert status["channel"] == "proxy" and status["handover"]["kind"] == "delivery"
    assert status["handover"]["recipient"] == "王*"
    assert Handover.objects.count() == 2


def test_proxy_purchase_refuses_another_committee(client, voucher):
    foreign = UserFactory(role="committee", committee=CommitteeFactory())
    response = client.post(
        f"/api/v1/committees/{voucher.committee.code}/proxy-purchases",
        {"codes": [voucher.code]},
        content_type="application/json",
        **bearer_for(foreign),
    )
    assert response.status_code == 403
    assert not Redemption.objects.exists()
