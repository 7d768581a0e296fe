"""The open-data stock feed (docs/open-data.md): per pharmacy and day, confirmed supply,
live voucher packs, bought, unallocated = confirmed − live voucher packs, updated_at."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.allocation.engine import allocation_run
from fairshare.allocation.models import Voucher
from fairshare.allocation.services import supply_declare, voucher_expire_due
from fairshare.pharmacy.stockfeed import FIELDS
from tests.allocation.factories import Entry, queue_build
from tests.factories import CommitteeFactory, RoundFactory, UserFactory
from tests.pharmacy.conftest import bearer_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db):
    committee = CommitteeFactory()
    rnd = RoundFactory(district=committee.subdistrict.district)
    queue_build(round=rnd, committee=committee, entries=[Entry()] * 4)
    return committee, rnd


def _declare(pharmacy, packs, on=None):
    supply_declare(
        pharmacy=pharmacy,
        date=on or timezone.localdate(),
        packs=packs,
        manufacturer="厂家",
        style="平面",
        unit_price="2.50",
        actor=None,
    )


def _row(client, code, on=None, **params):
    response = client.get("/api/v1/public/pharmacies", params)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=30"
    day = (on or timezone.localdate()).isoformat()
    return next(r for r in response.json() if r["code"] == code and r["date"] == day)


def test_unallocated_falls_when_vouchers_are_issued_not_when_they_are_bought(client, place):
    committee, rnd = place
    pharmacy = committee.pharmacy
    empty = _row(client, pharmacy.code)
    assert (empty["confirmed_packs"], empty["unallocated_packs"], empty["updated_at"]) == (
        0,
        0,
        None,
    )
    _declare(pharmacy, 10)
    row = _row(client, pharmacy.code)
    assert row["confirmed_packs"] == 10 and row["voucher_packs"] == 0
    assert row["unallocated_packs"] == 10 and row["updated_at"]
    allocation_run(round=rnd, date=timezone.localdate(), pharmacy=pharmacy)
    issued = _row(client, pharmacy.code)
    assert (issued["voucher_packs"], issued["redeemed_packs"], issued["unallocated_packs"]) == (
        4,
        0,
        6,
    )
    owner = UserFactory(role="pharmacy", pharmacy=pharmacy)
    voucher = Voucher.objects.filter(pharmacy=pharmacy).first()
    sold = client.post(
        f"/api/v1/vouchers/{voucher.code}/redeem",
        {},
        content_type="application/json",
        **bearer_for(owner),
    )
    assert sold.status_code == 200
    bought = _row(client, pharmacy.code)
    # A sale changes what is bought, not what is unallocated: the pack was promised.
    assert (bought["voucher_packs"], bought["redeemed_packs"], bought["unallocated_packs"]) == (
        4,
        1,
        6,
    )
    assert bought["updated_at"] >= issued["updated_at"]


def test_an_expired_voucher_returns_its_packs(client, place):
    committee, rnd = place
    _declare(committee.pharmacy, 10)
    allocation_run(round=rnd, date=timezone.localdate(), pharmacy=committee.pharmacy)
    assert voucher_expire_due(today=timezone.localdate() + timedelta(days=1)) == 4
    row = _row(client, committee.pharmacy.code)
    assert (row["voucher_packs"], row["unallocated_packs"]) == (0, 10)


def test_later_days_with_supply_are_listed_and_a_date_can_be_asked_for(client, place):
    committee, _rnd = place
    tomorrow = timezone.localdate() + timedelta(days=1)
    _declare(committee.pharmacy, 30, on=tomorrow)
    assert _row(client, committee.pharmacy.code, on=tomorrow)["confirmed_packs"] == 30
    only = client.get("/api/v1/public/pharmacies", {"date": tomorrow.isoformat()}).json()
    assert {r["date"] for r in only} == {tomorrow.isoformat()}
    bad = client.get("/api/v1/public/pharmacies", {"date": "2020-13-40"})
    assert bad.status_code == 422


def test_csv_has_the_same_rows_in_safe_cells(client, place):
    committee, rnd = place
    pharmacy = committee.pharmacy
    pharmacy.name = '=HYPERLINK("http://x","点击")'
    pharmacy.save()
    _declare(pharmacy, 10)
    allocation_run(round=rnd, date=timezone.localdate(), pharmacy=pharmacy)
    response = client.get("/api/v1/public/pharmacies.csv")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=30"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == FIELDS
    mine = next(r for r in rows if r["code"] == pharmacy.code)
    assert mine["name"].startswith("'=")  # shown as text, never run as a formula
    assert (mine["confirmed_packs"], mine["voucher_packs"], mine["unallocated_packs"]) == (
        "10",
        "4",
        "6",
    )
    assert "remaining_packs" not in rows[0]
