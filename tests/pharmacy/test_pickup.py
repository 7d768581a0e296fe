"""Committee pickup points (``pharmacy/pickup.py``): a bulk purchase never exceeds the
committee's issued vouchers, each bought one has its redemption, each hand-over is
recorded once with who collected it and scan or cash, and the reconciliation shows
pharmacy sales and committee hand-overs apart."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from fairshare.allocation.models import Voucher
from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.community.models import Building
from fairshare.core.errors import Conflict, FieldErrors, Forbidden
from fairshare.pharmacy.models import Channel, Handover, PickupPoint, Redemption
from fairshare.pharmacy.pickup import pickup_point_create, pickup_point_hand_over
from fairshare.pharmacy.selectors import reconciliation
from fairshare.pharmacy.services import voucher_redeem
from fairshare.registration.services import registration_create
from tests.factories import (
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    RoundFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _morning(monkeypatch):
    from fairshare.allocation import engine

    moment = timezone.make_aware(datetime.combine(timezone.localdate(), time(7, 0)))
    monkeypatch.setattr(engine, "_local_now", lambda: moment)


@pytest.fixture
def issued():
    """A committee with 4 vouchers issued today (and another committee with 1)."""
    committee = CommitteeFactory(code="K01")
    other = CommitteeFactory(
        code="K02", subdistrict=committee.subdistrict, pharmacy=committee.pharmacy
    )
    rnd = RoundFactory(district=committee.subdistrict.district)
    n = 0
    for c, count in ((committee, 4), (other, 1)):
        building = Building.objects.create(committee=c, label=f"{c.code}号")
        for _ in range(count):
            n += 1
            household = HouseholdFactory(building=building)
            MemberFactory(household=household, name="赵大海")
            registration_create(
                round=rnd,
                household=household,
                name="赵大海",
                phone=f"1371000{n:04d}",
                channel="online",
            )
    supply_declare(
        pharmacy=committee.pharmacy,
        date=timezone.localdate(),
        packs=5,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )
    allocation_run(round=rnd, date=timezone.localdate(), pharmacy=committee.pharmacy)
    assert Voucher.objects.filter(committee=committee).count() == 4
    staff = UserFactory(role="committee", committee=committee)
    return {"committee": committee, "other": other, "staff": staff, "round": rnd}


def _point(s, count):
    start = timezone.now()
    return pickup_point_create(
        committee=s["committee"],
        place="小区南门",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        count=count,
        actor=s["staff"],
    )


def test_a_bulk_purchase_never_exceeds_the_committees_issued_vouchers(issued):
    s = issued
    with pytest.raises(FieldErrors) as too_many:
        _point(s, 5)  # 4 issued: the other committee's voucher is not theirs to buy
    assert "count" in too_many.value.errors
    assert not Redemption.objects.exists() and not PickupPoint.objects.exists()
    point = _point(s, 3)
    bought = Redemption.objects.filter(proxy_batch=point.batch)
    assert bought.count() == 3 and {r.channel for r in bought} == {Channel.PROXY}
    assert {r.voucher.committee_id for r in bought} == {s["committee"].pk}
    with pytest.raises(FieldErrors):  # one left
        _point(s, 2)
    _point(s, 1)
    assert Voucher.objects.filter(committee=s["committee"], status="issued").count() == 0
    assert Voucher.objects.filter(committee=s["other"], status="issued").count() == 1


def test_outsiders_and_bad_input_change_nothing(issued):
    s = issued
    outsider = UserFactory(role="committee", committee=s["other"])
    with pytest.raises(Forbidden):
        pickup_point_create(
            committee=s["committee"],
            place="南门",
            starts_at=timezone.now(),
            ends_at=timezone.now() + timedelta(hours=1),
            count=1,
            actor=outsider,
        )
    at = timezone.now()
    with pytest.raises(FieldErrors) as bad:
        pickup_point_create(
            committee=s["committee"],
            place="",
            starts_at=at,
            ends_at=at,
            count=0,
            actor=s["staff"],
        )
    assert {"place", "ends_at", "count"} <= set(bad.value.errors)
    assert not Redemption.objects.exists()


def test_each_hand_over_is_recorded_once_with_payment(issued):
    s = issued
    point = _point(s, 2)
    first, second = [r.voucher for r in point.batch.redemptions.order_by("id")]
    handover = pickup_point_hand_over(
        point=point, voucher=first, recipient_name="赵大海", payment="scan", actor=s["staff"]
    )
    assert handover.pickup_point == point and handover.payment == "scan"
    with pytest.raises(Conflict):
        pickup_point_hand_over(
            point=point, voucher=first, recipient_name="别人", payment="cash", actor=s["staff"]
        )
    with pytest.raises(FieldErrors):
        pickup_point_hand_over(
            point=point, voucher=second, recipient_name="赵大海", payment="card", actor=s["staff"]
        )
    unbought = Voucher.objects.filter(committee=s["committee"], status="issued").first()
    with pytest.raises(Conflict):  # not bought for this point
        pickup_point_hand_over(
            point=point, voucher=unbought, recipient_name="赵大海", payment="cash", actor=s["staff"]
        )
    pickup_point_hand_over(
        point=point, voucher=second, recipient_name="钱小红", payment="cash", actor=s["staff"]
    )
    assert Handover.objects.filter(voucher=first).count() == 1
    assert sorted(Handover.objects.values_list("payment", flat=True)) == ["cash", "scan"]


def test_reconciliation_shows_pharmacy_sales_and_committee_hand_overs_apart(issued, client):
    s = issued
    point = _point(s, 2)
    pickup_point_hand_over(
        point=point,
        voucher=point.batch.redemptions.first().voucher,
        recipient_name="赵大海",
        payment="scan",
        actor=s["staff"],
    )
    counter = Voucher.objects.filter(committee=s["other"]).get()
    pharmacy = s["committee"].pharmacy
    pharmacist = UserFactory(role="pharmacy", pharmacy=pharmacy)
    voucher_redeem(code_or_token=counter.code, pharmacy=pharmacy, actor=pharmacist)
    data = reconciliation(pharmacy=pharmacy, day=timezone.localdate())
    assert data["sales"] == {"counter": 1, "committee": 2, "emergency": 0}
    [row] = data["pickup_points"]
    assert (row["bought"], row["handed_over"], row["scan"], row["cash"]) == (2, 1, 1, 0)
    client.force_login(pharmacist)
    page = client.get("/pharmacy/reconciliation/")
    assert page.status_code == 200 and "小区南门" in page.content.decode()
    sheet = client.get("/pharmacy/reconciliation.xlsx")
    book = load_workbook(io.BytesIO(sheet.content))
    rows = list(book.worksheets[4].values)
    assert rows[1][:2] == ("K01", "小区南门") and rows[1][3:] == (2, 1, 1, 0)
    assert list(dict(book.worksheets[3].values).values()) == [1, 2, 0]
