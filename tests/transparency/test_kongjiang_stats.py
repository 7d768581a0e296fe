"""Done when #1: the Kongjiang figures give 60.4 % registered and 98.1 % served."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fairshare.allocation.models import SupplyDay, SupplyDeclaration, Voucher
from fairshare.community.models import Building, Committee, Household, Pharmacy
from fairshare.registration.models import Registration
from fairshare.transparency.selectors import stats_for
from tests.factories import DistrictFactory, RoundFactory, SubdistrictFactory, UserFactory

HOUSEHOLDS = 44_270
REGISTERED = 26_741
SERVED = 26_224
COMMITTEES = 5
PER_BUILDING = 100
BATCH = 2000


def _load_kongjiang():
    district = DistrictFactory()
    sub = SubdistrictFactory(district=district, code="KJ", name="控江路街道")
    other = SubdistrictFactory(district=district, code="SP", name="四平路街道")
    pharmacies = [
        Pharmacy.objects.create(subdistrict=sub, code=f"KP{i}", name=f"药房{i}", address="控江路")
        for i in range(COMMITTEES)
    ]
    committees = [
        Committee.objects.create(
            subdistrict=sub, code=f"KJ{i:02d}", name=f"居委{i}", pharmacy=pharmacies[i]
        )
        for i in range(COMMITTEES)
    ]
    # A household outside the subdistrict must not count.
    op = Pharmacy.objects.create(subdistrict=other, code="SPP", name="四平药房", address="四平路")
    oc = Committee.objects.create(subdistrict=other, code="SP01", name="四平居委", pharmacy=op)
    ob = Building.objects.create(committee=oc, label="1号")
    Household.objects.create(committee=oc, building=ob, room="101")

    n_buildings = -(-HOUSEHOLDS // PER_BUILDING)
    buildings = Building.objects.bulk_create(
        [
            Building(committee=committees[i % COMMITTEES], label=f"{i + 1}号", sort_order=i)
            for i in range(n_buildings)
        ],
        batch_size=BATCH,
    )
    households = Household.objects.bulk_create(
        [
            Household(
                committee_id=buildings[i // PER_BUILDING].committee_id,
                building=buildings[i // PER_BUILDING],
                room=f"{(i % PER_BUILDING) // 4 + 1}{i % 4 + 1:02d}",
            )
            for i in range(HOUSEHOLDS)
        ],
        batch_size=BATCH,
    )
    rnd = RoundFactory(district=district)
    start = timezone.now() - timedelta(days=3)
    queue: dict[int, int] = {}
    regs = []
    for i, hh in enumerate(households[:REGISTERED]):
        queue[hh.committee_id] = queue.get(hh.committee_id, 0) + 1
        regs.append(
            Registration(
                round=rnd,
                committee_id=hh.committee_id,
                household=hh,
                queue_number=queue[hh.committee_id],
                ticket=f"K{i:09d}",
                channel="online",
                status="verified",
                name="张三丰",
                phone=f"139{i:08d}",
                acknowledged_at=start + timedelta(seconds=i),
                returned_recently=i % 100 == 0,
            )
        )
    regs = Registration.objects.bulk_create(regs, batch_size=BATCH)
    # Void duplicates do not count as registered.
    Registration.objects.bulk_create(
        [
            Registration(
                round=rnd,
                committee_id=r.committee_id,
                household_id=r.household_id,
                queue_number=100_000 + i,
                ticket=f"D{i:09d}",
                channel="desk",
                status="void",
                name="李四",
                phone="13900000000",
            )
            for i, r in enumerate(regs[:7])
        ]
    )
    today = timezone.localdate()
    decls = {}
    for p in pharmacies:
        day = SupplyDay.objects.create(pharmacy=p, date=today, packs=6000)
        decls[p.pk] = SupplyDeclaration.objects.create(
            supply_day=day, packs=6000, manufacturer="某厂", style="医用", unit_price=Decimal("2")
        )
    pharmacy_of = {c.pk: c.pharmacy_id for c in committees}
    now = timezone.now()
    vouchers = []
    for i, r in enumerate(regs[:SERVED]):
        d = decls[pharmacy_of[r.committee_id]]
        vouchers.append(
            Voucher(
                round=rnd,
                registration=r,
                household_id=r.household_id,
                committee_id=r.committee_id,
                pharmacy_id=d.supply_day.pharmacy_id,
                supply_day=d.supply_day,
                declaration=d,
                date=today,
                valid_until=today,
                code=f"V{i:09d}",
                status="redeemed",
                redeemed_at=now,
            )
        )
    Voucher.objects.bulk_create(vouchers, batch_size=BATCH)
    return rnd, sub, committees


@pytest.mark.django_db
def test_kongjiang_figures_on_stats_endpoint_and_subdistrict_dashboard(client):
    rnd, sub, committees = _load_kongjiang()

    stats = stats_for(round=rnd, subdistrict=sub, include_staff=True)
    assert stats["households"] == HOUSEHOLDS
    assert stats["registered"] == REGISTERED
    assert stats["redeemed"] == SERVED
    assert stats["registered_pct"] == 60.4
    assert stats["served_pct"] == 98.1
    assert stats["returnees"] == len(range(0, REGISTERED, 100))
    assert sum(c["registered"] for c in stats["by_channel"]) == REGISTERED
    assert sum(p["redeemed"] for p in stats["by_pharmacy"]) == SERVED
    assert sum(p["supply"] for p in stats["by_pharmacy"]) == 6000 * COMMITTEES

    body = client.get(f"/api/v1/stats/rounds/{rnd.pk}", {"subdistrict": "KJ"}).json()
    assert (body["households"], body["registered"], body["redeemed"]) == (
        HOUSEHOLDS,
        REGISTERED,
        SERVED,
    )
    assert body["registered_pct"] == 60.4
    assert body["served_pct"] == 98.1
    assert body["vouchers_issued"] == SERVED
    assert body["returnees"] is None  # public caller: no staff-only figures

    staff = UserFactory(role="subdistrict", subdistrict=sub)
    client.force_login(staff)
    page = client.get(f"/public/staff/rounds/{rnd.pk}/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<strong class="pct" id="registered-pct">60.4 %</strong>' in html
    assert '<strong class="pct" id="served-pct">98.1 %</strong>' in html
    # Drill-down lists every committee with its own figures.
    for c in committees:
        assert f"?committee={c.code}" in html
