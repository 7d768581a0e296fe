"""Rush-proof staff forms (issue 15): a one-time token per form (``core.forms``); a
second submission of the same token changes nothing and redirects with a notice."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from fairshare.allocation.models import SupplyDeclaration
from tests.factories import PharmacyFactory, UserFactory

pytestmark = pytest.mark.django_db


def _token(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.fixture
def pharmacist(client):
    pharmacy = PharmacyFactory()
    client.force_login(UserFactory(role="pharmacy", pharmacy=pharmacy))
    return pharmacy


def _supply(pharmacy, **extra):
    return {
        "pharmacy": pharmacy.code,
        "date": timezone.localdate().isoformat(),
        "packs": "3",
        "manufacturer": "上海某医疗用品有限公司",
        "style": "一次性医用口罩",
        "unit_price": "9.90",
    } | extra


def test_supply_form_double_submission_declares_once(client, pharmacist):
    token = _token(client.get("/vouchers/supply/").content.decode())
    first = client.post("/vouchers/supply/", _supply(pharmacist, form_token=token))
    second = client.post("/vouchers/supply/", _supply(pharmacist, form_token=token))
    assert first.status_code == 302 and second.status_code == 302
    assert SupplyDeclaration.objects.count() == 1
    page = client.get(second["Location"]).content.decode()
    assert "此表单已提交过" in page


def test_each_rendered_form_has_its_own_token(client, pharmacist):
    """The negative control: two forms rendered separately are two submissions."""
    one = _token(client.get("/vouchers/supply/").content.decode())
    two = _token(client.get("/vouchers/supply/").content.decode())
    assert one != two
    client.post("/vouchers/supply/", _supply(pharmacist, form_token=one))
    client.post("/vouchers/supply/", _supply(pharmacist, packs="5", form_token=two))
    assert SupplyDeclaration.objects.count() == 2


def test_a_refused_form_renders_a_fresh_token(client, pharmacist):
    token = _token(client.get("/vouchers/supply/").content.decode())
    refused = client.post("/vouchers/supply/", _supply(pharmacist, packs="x", form_token=token))
    assert refused.status_code == 422 and SupplyDeclaration.objects.count() == 0
    fixed = _supply(pharmacist, form_token=_token(refused.content.decode()))
    assert client.post("/vouchers/supply/", fixed).status_code == 302
    assert SupplyDeclaration.objects.count() == 1
