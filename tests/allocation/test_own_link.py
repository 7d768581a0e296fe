"""A resident's own link (issue 18) on the status page, in the status API's state and on
the voucher slip: the sequence number and hash of the registration's "registered" link."""

from __future__ import annotations

import pytest
from django.test import Client
from reportlab.pdfgen.canvas import Canvas

from fairshare.allocation.slips import slips_pdf
from fairshare.registration.links import registered_link
from fairshare.registration.models import Registration
from fairshare.registration.services import registration_create
from fairshare.registration.status_link import status_link_path
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    RoundFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_ratelimit(settings):
    settings.RATELIMIT_ENABLED = False


@pytest.fixture
def two():
    """Two registrations of one committee through the service (links 1 and 2)."""
    committee = CommitteeFactory()
    building = BuildingFactory(committee=committee)
    rnd = RoundFactory(district=committee.subdistrict.district)
    return [
        registration_create(
            round=rnd,
            household=HouseholdFactory(building=building, room=room),
            name="张三",
            phone=f"1381234567{i}",
            channel="online",
        ).registration
        for i, room in enumerate(("101", "102"))
    ]


def test_the_status_page_and_api_show_the_own_link(two):
    first, second = two
    link, other = registered_link(second), registered_link(first)
    html = Client().get(status_link_path(second)).content.decode()
    assert link.hash in html and "第2条" in html
    assert other.hash not in html  # negative control: the other household's link
    api = Client().post(
        f"/api/v1/registrations/{second.ticket}/status",
        {"phone": second.phone},
        content_type="application/json",
    )
    assert api.status_code == 200, api.content
    assert api.json()["state"]["link"] == {"seq": 2, "hash": link.hash}


def test_a_void_registration_still_shows_its_link(two):
    first = two[0]
    Registration.objects.filter(pk=first.pk).update(status="void", void_reason="duplicate")
    html = Client().get(status_link_path(first)).content.decode()
    assert registered_link(first).hash in html


def test_the_voucher_slip_shows_the_own_link(two, monkeypatch):
    first, second = two
    voucher = VoucherFactory(registration=second)
    drawn: list[str] = []
    original = Canvas.drawString

    def spy(self, x, y, text, *args, **kwargs):
        drawn.append(str(text))
        return original(self, x, y, text, *args, **kwargs)

    monkeypatch.setattr(Canvas, "drawString", spy)
    pdf = slips_pdf(committee=second.committee, vouchers=[voucher])
    assert pdf.startswith(b"%PDF")
    link = registered_link(second)
    assert "公示链第2条" in drawn
    assert link.hash[:32] in drawn and link.hash[32:] in drawn
    assert registered_link(first).hash[:32] not in drawn
