"""Staff dashboards (scoped drill-down, SVG charts), stats returnees and XLSX exports."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from fairshare.accounts.models import ApiToken
from fairshare.registration.models import Registration
from tests.factories import CommitteeFactory, UserFactory
from tests.transparency.factories import board_world

pytestmark = pytest.mark.django_db


def _token(user) -> str:
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw))
    return raw


def test_returnees_only_for_staff_whose_scope_covers_the_area(client):
    world = board_world()
    Registration.objects.filter(pk=world.registrations[7].pk).update(returned_recently=True)
    url = f"/api/v1/stats/rounds/{world.round.pk}?committee={world.committee.code}"
    assert client.get(url).json()["returnees"] is None
    own = UserFactory(role="committee", committee=world.committee)
    body = client.get(url, HTTP_AUTHORIZATION=f"Bearer {_token(own)}").json()
    assert body["returnees"] == 1
    other = UserFactory(
        role="committee", committee=CommitteeFactory(subdistrict=world.committee.subdistrict)
    )
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {_token(other)}").json()["returnees"] is None
    # A sent but bad token is refused (tests/transparency/test_optional_bearer.py).
    assert client.get(url, HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401


def test_committee_stats_figures(client):
    world = board_world()
    body = client.get(
        f"/api/v1/stats/rounds/{world.round.pk}", {"committee": world.committee.code}
    ).json()
    assert body["households"] == 24
    assert body["registered"] == 17  # 18 registrations, one void
    assert body["vouchers_issued"] == 5
    assert body["redeemed"] == 3
    assert body["registered_pct"] == 70.8
    assert body["served_pct"] == 17.6
    channels = {c["channel"]: c["registered"] for c in body["by_channel"]}
    assert sum(channels.values()) == 17
    assert body["by_day"][0]["issued"] == 5


def test_dashboard_scoping_and_drilldown(client):
    world = board_world()
    sub = world.committee.subdistrict
    url = f"/public/staff/rounds/{world.round.pk}/dashboard/"
    assert client.get(url).status_code == 302

    district = UserFactory(role="district", district=sub.district)
    client.force_login(district)
    html = client.get(url).content.decode()
    assert f"?subdistrict={sub.code}" in html and "<svg" in html
    html = client.get(url, {"subdistrict": sub.code}).content.decode()
    assert f"?committee={world.committee.code}" in html
    assert client.get(url, {"committee": world.committee.code}).status_code == 200

    committee_user = UserFactory(role="committee", committee=world.committee)
    client.force_login(committee_user)
    page = client.get(url)
    assert page.status_code == 200 and world.committee.name in page.content.decode()
    assert client.get(url, {"subdistrict": sub.code}).status_code == 403
    other = CommitteeFactory(subdistrict=sub)
    assert client.get(url, {"committee": other.code}).status_code == 403
    assert 'style="' not in page.content.decode()


def _rows(content: bytes) -> list[list]:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def test_xlsx_registrations_full_only_for_own_committee(client):
    world = board_world()
    url = f"/public/staff/rounds/{world.round.pk}/export/registrations.xlsx"
    reg = world.registrations[0]

    own = UserFactory(role="committee", committee=world.committee)
    client.force_login(own)
    response = client.get(url, {"committee": world.committee.code})
    assert response.status_code == 200
    rows = _rows(response.content)
    assert len(rows) == 1 + len(world.registrations)
    assert rows[1][2] == reg.name and rows[1][3] == reg.phone

    subdistrict = UserFactory(role="subdistrict", subdistrict=world.committee.subdistrict)
    client.force_login(subdistrict)
    rows = _rows(client.get(url, {"subdistrict": world.committee.subdistrict.code}).content)
    names = {r[2] for r in rows[1:]}
    assert reg.name not in names and all("*" in n for n in names)
    assert all("****" in r[3] for r in rows[1:])
    rows = _rows(client.get(url, {"committee": world.committee.code}).content)
    assert reg.name not in {r[2] for r in rows[1:]}

    other = UserFactory(
        role="committee", committee=CommitteeFactory(subdistrict=world.committee.subdistrict)
    )
    client.force_login(other)
    assert client.get(url, {"committee": world.committee.code}).status_code == 403


def test_xlsx_vouchers_and_daily(client):
    world = board_world()
    user = UserFactory(role="subdistrict", subdistrict=world.committee.subdistrict)
    client.force_login(user)
    base = f"/public/staff/rounds/{world.round.pk}/export/"
    rows = _rows(client.get(base + "vouchers.xlsx", {"committee": world.committee.code}).content)
    assert len(rows) == 1 + 5
    daily = client.get(base + "daily.xlsx", {"subdistrict": world.committee.subdistrict.code})
    assert daily.status_code == 200
    summary = dict((r[0], r[1]) for r in _rows(daily.content) if len(r) >= 2)
    assert summary["已登记"] == 17 or summary.get("Registered") == 17
    assert client.get(base + "bogus.xlsx").status_code == 404
