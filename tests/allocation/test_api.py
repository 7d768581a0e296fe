from __future__ import annotations

from datetime import timedelta

import pytest

from fairshare.accounts.models import ApiToken
from fairshare.allocation.models import SupplyDeclaration, Voucher
from tests.allocation.factories import Entry, queue_build
from tests.factories import CommitteeFactory, MemberFactory, PharmacyFactory, UserFactory

pytestmark = pytest.mark.django_db


def _auth(user) -> dict[str, str]:
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _supply(client, setup, user, **body):
    data = {
        "date": setup["today"].isoformat(),
        "packs": 5,
        "manufacturer": "厂家",
        "style": "平面",
        "unit_price": "2.50",
    } | body
    return client.post(
        f"/api/v1/pharmacies/{setup['pharmacy'].code}/supplies",
        data,
        content_type="application/json",
        **_auth(user),
    )


def test_supply_scoping(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    own = UserFactory(role="pharmacy", pharmacy=s["pharmacy"])
    other = UserFactory(
        role="pharmacy", pharmacy=PharmacyFactory(subdistrict=s["pharmacy"].subdistrict)
    )
    committee_staff = UserFactory(role="committee", committee=s["committees"][0])
    response = _supply(client, s, own)
    assert response.status_code == 201, response.content
    assert response.json()["day_total"] == 5
    response = _supply(client, s, subdistrict_user, packs=8)
    assert response.status_code == 201
    assert response.json()["day_total"] == 8
    assert _supply(client, s, other).status_code == 403
    assert _supply(client, s, committee_staff).status_code == 403
    outsider = UserFactory(role="subdistrict", subdistrict=CommitteeFactory().subdistrict)
    assert _supply(client, s, outsider).status_code == 403
    unknown = client.post(
        "/api/v1/pharmacies/NOPE/supplies", {}, content_type="application/json", **_auth(own)
    )
    assert unknown.status_code in (404, 422)
    assert SupplyDeclaration.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [{"packs": -3}, {"packs": 10**7}, {"unit_price": "-1"}, {"manufacturer": ""}, {"packs": "x"}],
)
def test_supply_bad_input_422(client, pharmacy_setup, subdistrict_user, body):
    response = _supply(client, pharmacy_setup, subdistrict_user, **body)
    assert response.status_code == 422
    assert "errors" in response.json()
    assert not SupplyDeclaration.objects.exists()


def test_supply_date_outside_round_422(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    late = (s["round"].valid_until + timedelta(days=1)).isoformat()
    response = _supply(client, s, subdistrict_user, date=late)
    assert response.status_code == 422
    assert "date" in response.json()["errors"]


def test_allocation_endpoint(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    url = f"/api/v1/rounds/{s['round'].pk}/allocations"
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 4)
    queue_build(round=s["round"], committee=s["committees"][1], entries=[Entry()] * 4)
    assert _supply(client, s, subdistrict_user, packs=6).status_code == 201
    headers = _auth(subdistrict_user)
    body = {"date": s["today"].isoformat(), "pharmacy": s["pharmacy"].code}
    dry = client.post(url, body | {"dry_run": True}, content_type="application/json", **headers)
    assert dry.status_code == 200 and dry.json()["issued"] == 6
    assert not Voucher.objects.exists()
    key = {"HTTP_IDEMPOTENCY_KEY": "run-1"}
    first = client.post(url, body, content_type="application/json", **headers, **key)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["issued"] == data["vouchers_issued"] == 6
    assert {row["committee"]: row["issued"] for row in data["by_committee"]} == {
        "A01": 3,
        "A02": 3,
        "A03": 0,
    }
    replay = client.post(url, body, content_type="application/json", **headers, **key)
    assert replay.status_code == 201 and replay.json() == data
    again = client.post(url, body, content_type="application/json", **headers)
    assert again.status_code == 200 and again.json()["issued"] == 0
    assert Voucher.objects.count() == 6


def test_allocation_errors(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    url = f"/api/v1/rounds/{s['round'].pk}/allocations"
    headers = _auth(subdistrict_user)
    _supply(client, s, subdistrict_user, packs=6)
    today = s["today"].isoformat()
    nobody = client.post(url, {"date": today}, content_type="application/json", **headers)
    assert nobody.status_code == 409
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 2)
    late = (s["round"].valid_until + timedelta(days=3)).isoformat()
    assert (
        client.post(url, {"date": late}, content_type="application/json", **headers).status_code
        == 422
    )
    foreign = CommitteeFactory().pharmacy
    response = client.post(
        url, {"date": today, "pharmacy": foreign.code}, content_type="application/json", **headers
    )
    assert response.status_code == 422
    committee_staff = UserFactory(role="committee", committee=s["committees"][0])
    response = client.post(
        url, {"date": today}, content_type="application/json", **_auth(committee_staff)
    )
    assert response.status_code == 403
    assert client.post(url, {"date": today}, content_type="application/json").status_code == 401
    assert not Voucher.objects.exists()


def test_slips_pdf(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 9)
    _supply(client, s, subdistrict_user, packs=9)
    client.post(
        f"/api/v1/rounds/{s['round'].pk}/allocations",
        {"date": s["today"].isoformat()},
        content_type="application/json",
        **_auth(subdistrict_user),
    )
    url = f"/api/v1/committees/A01/voucher-slips.pdf?date={s['today'].isoformat()}"
    response = client.get(url, **_auth(subdistrict_user))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    other_staff = UserFactory(role="committee", committee=s["committees"][1])
    assert client.get(url, **_auth(other_staff)).status_code == 403


def test_staff_page_and_slips_download(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 3)
    _supply(client, s, subdistrict_user, packs=3)
    client.post(
        f"/api/v1/rounds/{s['round'].pk}/allocations",
        {"date": s["today"].isoformat()},
        content_type="application/json",
        **_auth(subdistrict_user),
    )
    client.force_login(subdistrict_user)
    day = s["today"].isoformat()
    page = client.get(f"/vouchers/committees/A01/?date={day}")
    assert page.status_code == 200
    assert Voucher.objects.first().code in page.content.decode()
    pdf = client.get(f"/vouchers/committees/A01/slips.pdf?date={day}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    other = UserFactory(role="committee", committee=s["committees"][1])
    client.force_login(other)
    assert client.get(f"/vouchers/committees/A01/slips.pdf?date={day}").status_code == 404


def test_fulfilment_endpoint_scoped(client, pharmacy_setup, subdistrict_user):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()])
    _supply(client, s, subdistrict_user, packs=1)
    client.post(
        f"/api/v1/rounds/{s['round'].pk}/allocations",
        {"date": s["today"].isoformat()},
        content_type="application/json",
        **_auth(subdistrict_user),
    )
    voucher = Voucher.objects.get()
    staff = UserFactory(role="committee", committee=s["committees"][0])
    other = UserFactory(role="committee", committee=s["committees"][1])
    url = f"/api/v1/vouchers/{voucher.code.lower()}/fulfilment"
    body = {"fulfilment": "proxy"}
    assert (
        client.post(url, body, content_type="application/json", **_auth(other)).status_code == 404
    )
    response = client.post(url, body, content_type="application/json", **_auth(staff))
    assert response.status_code == 200 and response.json()["fulfilment"] == "proxy"
    bad = client.post(url, {"fulfilment": "drone"}, content_type="application/json", **_auth(staff))
    assert bad.status_code == 422
    voucher.refresh_from_db()
    assert voucher.fulfilment == "proxy"
    # Home delivery only for households with a member living alone or with limited mobility.
    refused = client.post(
        url, {"fulfilment": "delivery"}, content_type="application/json", **_auth(staff)
    )
    assert refused.status_code == 422 and "fulfilment" in refused.json()["errors"]
    voucher.refresh_from_db()
    assert voucher.fulfilment == "proxy"
    MemberFactory(household=voucher.household, lives_alone=True)
    accepted = client.post(
        url, {"fulfilment": "delivery"}, content_type="application/json", **_auth(staff)
    )
    assert accepted.status_code == 200 and accepted.json()["fulfilment"] == "delivery"
