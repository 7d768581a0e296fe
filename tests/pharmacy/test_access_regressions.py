"""Regressions found by the access matrix (tests/accounts/test_matrix.py) in the pharmacy app."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.accounts.models import CommitteeAssignment
from fairshare.pharmacy.models import Handover
from fairshare.pharmacy.services import voucher_redeem
from tests.factories import CommitteeFactory, UserFactory
from tests.pharmacy.conftest import bearer_for

pytestmark = pytest.mark.django_db


def helper_of(committee):
    """A committee user of another committee, assigned to ``committee`` for a week."""
    home = CommitteeFactory(subdistrict=committee.subdistrict, pharmacy=committee.pharmacy)
    user = UserFactory(role="committee", committee=home)
    CommitteeAssignment.objects.create(
        user=user, committee=committee, expires_at=timezone.now() + timedelta(days=7)
    )
    return user


def test_reconciliation_api_is_not_for_committee_staff(client, voucher, owner):
    # It lists the voucher codes of every committee the pharmacy serves.
    url = f"/api/v1/pharmacies/{voucher.pharmacy.code}/reconciliation"
    staff = UserFactory(role="committee", committee=voucher.committee)
    assert client.get(url, **bearer_for(staff)).status_code == 404
    assert client.get(url, **bearer_for(helper_of(voucher.committee))).status_code == 404
    area = UserFactory(role="subdistrict", subdistrict=voucher.committee.subdistrict)
    assert client.get(url, **bearer_for(area)).status_code == 200
    assert client.get(url, **bearer_for(owner)).status_code == 200


def test_helpers_buy_and_hand_over_for_their_assigned_committee(client, voucher):
    headers = bearer_for(helper_of(voucher.committee))
    bought = client.post(
        f"/api/v1/committees/{voucher.committee.code}/proxy-purchases",
        {"codes": [voucher.code]},
        content_type="application/json",
        **headers,
    )
    assert bought.status_code == 200 and bought.json()["redeemed"] == 1
    handed = client.post(
        f"/api/v1/vouchers/{voucher.code}/handover",
        {"recipient_name": "李四"},
        content_type="application/json",
        **headers,
    )
    assert handed.status_code == 200, handed.content


def test_pharmacy_staff_cannot_record_a_committee_hand_over(client, voucher, owner):
    voucher_redeem(code_or_token=voucher.code, pharmacy=voucher.pharmacy, actor=owner)
    for kind in ("handover", "delivery"):
        response = client.post(
            f"/api/v1/vouchers/{voucher.code}/{kind}",
            {"recipient_name": "李四"},
            content_type="application/json",
            **bearer_for(owner),
        )
        assert response.status_code == 403
    assert not Handover.objects.exists()


def test_scan_page_refuses_another_pharmacys_voucher_with_403(client, voucher, stranger):
    client.force_login(stranger)
    response = client.post("/pharmacy/scan/", {"code": voucher.code, "action": "lookup"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "notice-error" in html and voucher.code not in html and "张三明" not in html
