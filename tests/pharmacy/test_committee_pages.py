"""Committee staff's pages of pickup points (with the printable list) and of proxy
purchase / home delivery: through the client, with the negative controls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.allocation.models import Voucher
from fairshare.pharmacy.models import Handover, PickupPoint, Redemption
from tests.factories import MemberFactory, UserFactory
from tests.pharmacy.test_pickup import _morning, issued  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _fmt(at):
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def test_pickup_point_pages_buy_hand_over_and_print(client, issued):  # noqa: F811
    s = issued
    client.force_login(s["staff"])
    url = f"/pharmacy/committees/{s['committee'].code}/pickup/"
    assert client.get(url).status_code == 200
    now = timezone.now()
    data = {"place": "小区南门", "starts_at": _fmt(now), "ends_at": _fmt(now + timedelta(hours=2))}
    too_many = client.post(url, {**data, "count": "9"})
    assert too_many.status_code == 422 and not Redemption.objects.exists()
    created = client.post(url, {**data, "count": "2"})
    assert created.status_code == 302
    point = PickupPoint.objects.get()
    page = client.get(created.url)
    assert page.status_code == 200 and "小区南门" in page.content.decode()
    voucher = point.batch.redemptions.first().voucher
    form = {"code": voucher.code, "recipient_name": "赵大海", "payment": "cash"}
    assert client.post(created.url, form).status_code == 302
    assert client.post(created.url, form).status_code == 409  # recorded once
    assert Handover.objects.get(voucher=voucher).payment == "cash"
    pdf = client.get(f"{url}{point.pk}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    outsider = UserFactory(role="committee", committee=s["other"])
    client.force_login(outsider)
    assert client.get(created.url).status_code == 404


def test_proxy_and_delivery_page(client, issued):  # noqa: F811
    s = issued
    client.force_login(s["staff"])
    url = f"/pharmacy/committees/{s['committee'].code}/fulfilment/"
    proxy, home = Voucher.objects.filter(committee=s["committee"]).order_by("id")[:2]
    MemberFactory(household=home.household, name="独居老人", lives_alone=True)
    assert (
        client.post(
            url, {"action": "switch", "code": proxy.code, "fulfilment": "proxy"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            url, {"action": "switch", "code": home.code, "fulfilment": "delivery"}
        ).status_code
        == 302
    )
    page = client.get(url)
    assert page.status_code == 200 and proxy.code in page.content.decode()
    assert client.post(url, {"action": "buy", "codes": [proxy.code]}).status_code == 302
    proxy.refresh_from_db()
    assert proxy.status == "redeemed" and proxy.redemption.channel == "proxy"
    empty = client.post(url, {"action": "handover", "code": proxy.code, "recipient_name": ""})
    assert empty.status_code == 422 and not Handover.objects.exists()
    done = client.post(url, {"action": "handover", "code": proxy.code, "recipient_name": "赵大海"})
    assert done.status_code == 302
    assert Handover.objects.get(voucher=proxy).recipient_name == "赵大海"
    unbought = client.post(
        url, {"action": "handover", "code": home.code, "recipient_name": "赵大海"}
    )
    assert unbought.status_code == 409
