"""The committee staff's emergency delivery page: records a delivery, shows the stock,
refuses bad input per field (in Chinese) and changes nothing then."""

from __future__ import annotations

import pytest
from django.utils import translation

from fairshare.allocation.emergency import emergency_stock_set
from fairshare.allocation.models import Voucher
from fairshare.allocation.services import supply_declare
from fairshare.community.models import Building
from fairshare.registration.models import Registration
from tests.factories import HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(pharmacy_setup, client):
    s = pharmacy_setup
    committee = s["committees"][0]
    manager = UserFactory(role="district", district=committee.subdistrict.district)
    emergency_stock_set(round=s["round"], committee_id=committee.pk, packs=1, actor=manager)
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=3,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )
    building = Building.objects.create(committee=committee, label="5号")
    household = HouseholdFactory(building=building, room="101")
    client.force_login(UserFactory(role="committee", committee=committee))
    return {
        "url": f"/vouchers/committees/{committee.code}/emergency/",
        "household": household,
        "round": s["round"],
    }


def _post(client, page, **changes):
    data = {
        "round": page["round"].pk,
        "action": "deliver",
        "building": "5号",
        "room": "101",
        "name": "孙奶奶",
        "phone": "13912345678",
        "reason": "alone",
        "received_by": "孙奶奶",
    }
    return client.post(page["url"], {**data, **changes}, HTTP_ACCEPT_LANGUAGE="zh-hans")


def test_the_page_records_a_delivery_once(client, page):
    shown = client.get(page["url"])
    assert shown.status_code == 200 and "1" in shown.content.decode()
    done = _post(client, page)
    assert done.status_code == 302
    voucher = Voucher.objects.get(household=page["household"])
    assert voucher.registration.channel == "emergency"
    again = _post(client, page)
    assert again.status_code == 409
    assert Voucher.objects.filter(household=page["household"]).count() == 1


def test_bad_input_is_shown_per_field_and_changes_nothing(client, page):
    with translation.override("zh-hans"):
        answer = _post(client, page, room="999", name="")
    assert answer.status_code == 422
    assert "本居委会没有这一户" in answer.content.decode()  # per field, Chinese first
    assert not Registration.objects.exists()
    answer = _post(client, page, phone="12", reason="x")
    assert answer.status_code == 422 and 'role="alert"' in answer.content.decode()
    assert not Registration.objects.exists() and not Voucher.objects.exists()


def test_committee_staff_may_not_set_the_stock(client, page):
    answer = client.post(page["url"], {"round": page["round"].pk, "action": "stock", "packs": "9"})
    assert answer.status_code == 403
