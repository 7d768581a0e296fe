"""Human labels in the staff exports and dashboards (issue 15): the models' choices in
the user's language, never the raw values."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from openpyxl import load_workbook

from fairshare.allocation.models import Voucher
from tests.factories import UserFactory
from tests.transparency.factories import board_world

pytestmark = pytest.mark.django_db


def _sheet(content: bytes) -> list[list]:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def _vouchers(client, world, language: str) -> list[list]:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    url = f"/public/staff/rounds/{world.round.pk}/export/vouchers.xlsx"
    response = client.get(url, {"committee": world.committee.code})
    assert response.status_code == 200
    return _sheet(response.content)


@pytest.fixture
def world(client):
    world = board_world()
    Voucher.objects.filter(pk=world.vouchers[4].pk).update(fulfilment="delivery")
    client.force_login(UserFactory(role="subdistrict", subdistrict=world.committee.subdistrict))
    return world


def test_voucher_export_shows_fulfilment_and_status_labels_in_chinese(client, world):
    rows = _vouchers(client, world, "zh-hans")
    column = rows[0].index("领取方式") if "领取方式" in rows[0] else 9
    fulfilment = {r[column] for r in rows[1:]}
    assert "送货上门" in fulfilment and "到店自取" in fulfilment
    assert not {"delivery", "pickup"} & fulfilment  # the negative control: no raw value
    statuses = {r[8] for r in rows[1:]}
    assert not {"issued", "redeemed"} & statuses


def test_voucher_export_shows_labels_in_english(client, world):
    rows = _vouchers(client, world, "en")
    column = rows[0].index("Fulfilment")
    fulfilment = {r[column] for r in rows[1:]}
    assert "home delivery" in fulfilment and "delivery" not in fulfilment


def test_dashboard_names_its_columns_by_level(client, world):
    sub = world.committee.subdistrict
    client.force_login(UserFactory(role="district", district=sub.district))
    url = f"/public/staff/rounds/{world.round.pk}/dashboard/"
    district = client.get(url).content.decode()
    assert "<th>街道</th>" in district and "<th>姓名</th>" not in district
    subdistrict = client.get(url, {"subdistrict": sub.code}).content.decode()
    assert "<th>居委会</th>" in subdistrict and "<th>姓名</th>" not in subdistrict
