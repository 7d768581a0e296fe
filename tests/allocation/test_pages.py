"""The supply declaration and allocation pages (same services as the API)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fairshare.allocation.models import SupplyDay, Voucher
from tests.allocation.factories import Entry, queue_build
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _form(s, **overrides):
    data = {
        "pharmacy": s["pharmacy"].code,
        "date": s["today"].isoformat(),
        "packs": "3",
        "manufacturer": "上海某医疗用品有限公司",
        "style": "一次性医用口罩",
        "unit_price": "9.90",
    }
    return data | overrides


def test_pharmacy_declares_and_corrects_supply(client, pharmacy_setup):
    s = pharmacy_setup
    client.force_login(UserFactory(role="pharmacy", pharmacy=s["pharmacy"]))
    page = client.get("/vouchers/supply/")
    assert page.status_code == 200 and "申报供应量" in page.content.decode()
    assert client.post("/vouchers/supply/", _form(s)).status_code == 302
    assert client.post("/vouchers/supply/", _form(s, packs="5")).status_code == 302
    day = SupplyDay.objects.get(pharmacy=s["pharmacy"], date=s["today"])
    assert day.packs == 5 and day.declarations.count() == 2  # the correction supersedes
    listing = client.get("/vouchers/supply/").content.decode()
    assert "已更正" in listing


@pytest.mark.parametrize(
    ("field", "value"),
    [("packs", "-1"), ("packs", "many"), ("unit_price", "1.234"), ("date", "yesterday")],
)
def test_bad_supply_input_gets_a_field_error_and_changes_nothing(
    client, pharmacy_setup, field, value
):
    s = pharmacy_setup
    client.force_login(UserFactory(role="pharmacy", pharmacy=s["pharmacy"]))
    response = client.post("/vouchers/supply/", _form(s, **{field: value}))
    assert response.status_code == 422
    assert 'class="errorlist"' in response.content.decode()
    assert not SupplyDay.objects.filter(packs__gt=0).exists()


def test_past_date_is_refused(client, pharmacy_setup):
    s = pharmacy_setup
    client.force_login(UserFactory(role="pharmacy", pharmacy=s["pharmacy"]))
    past = (s["today"] - timedelta(days=1)).isoformat()
    assert client.post("/vouchers/supply/", _form(s, date=past)).status_code == 422


def test_committee_staff_cannot_declare(client, pharmacy_setup):
    s = pharmacy_setup
    client.force_login(UserFactory(role="committee", committee=s["committees"][0]))
    assert client.get("/vouchers/supply/").status_code == 403


def test_allocation_page_previews_then_issues(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 3)
    client.force_login(subdistrict_user)
    assert client.post("/vouchers/supply/", _form(s, packs="2")).status_code == 302
    form = {"round": str(s["round"].pk), "date": s["today"].isoformat(), "pharmacy": ""}
    preview = client.post("/vouchers/allocate/", form)
    assert preview.status_code == 200 and not Voucher.objects.exists()
    run = client.post("/vouchers/allocate/", form | {"confirm": preview.context["token"]})
    assert run.status_code == 200 and Voucher.objects.count() == 2
    again = client.post("/vouchers/allocate/", form)  # the supply is used up: none more
    assert again.status_code == 200 and again.context["preview"].issued == 0
    assert Voucher.objects.count() == 2


def test_allocation_page_is_for_area_staff_only(client, pharmacy_setup):
    s = pharmacy_setup
    client.force_login(UserFactory(role="committee", committee=s["committees"][0]))
    assert client.get("/vouchers/allocate/").status_code == 403
