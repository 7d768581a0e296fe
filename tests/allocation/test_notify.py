from __future__ import annotations

import pytest

from fairshare.allocation.models import Voucher
from fairshare.allocation.notify import voucher_token
from fairshare.allocation.selectors import notification_log, voucher_qr_svg
from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.allocation.tokens import code_display, token_verify
from fairshare.core.outbox import outbox_drain
from fairshare.core.sms import sms_render
from tests.allocation.factories import Entry, queue_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(pharmacy_setup):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 2)
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=2,
        manufacturer="某厂",
        style="N95",
        unit_price="9.90",
        actor=None,
    )
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    return list(Voucher.objects.select_related("pharmacy", "registration").order_by("id"))


def test_sms_after_commit_and_household_log(issued, pharmacy_setup):
    voucher = issued[0]
    log = list(notification_log(household_id=voucher.household_id))
    assert len(log) == 1 and log[0].status == "pending"
    text = sms_render(log[0].payload)
    for part in (
        code_display(voucher.code),
        pharmacy_setup["pharmacy"].name,
        pharmacy_setup["pharmacy"].address,
        "某厂",
        "N95",
        "9.90",
        f"{voucher.slot_start:%H:%M}",
    ):
        assert part in text
    assert log[0].payload["phone"] == voucher.registration.phone
    sent = []
    counts = outbox_drain(handlers={"sms": lambda payload: sent.append(payload)})
    assert counts["sent"] == 2 and len(sent) == 2
    assert notification_log(household_id=voucher.household_id).get().status == "sent"


def test_qr_carries_signed_claims(issued):
    voucher = issued[0]
    svg = voucher_qr_svg(voucher)
    assert svg.startswith("<svg") and "</svg>" in svg
    claims = token_verify(voucher_token(voucher))
    assert claims == {
        "c": voucher.code,
        "r": voucher.round_id,
        "p": voucher.pharmacy.code,
        "d": voucher.date.isoformat(),
        "u": voucher.valid_until.isoformat(),
        "k": 1,
    }


def test_errors_are_bilingual(client, pharmacy_setup):
    from fairshare.accounts.models import ApiToken
    from tests.factories import UserFactory

    user = UserFactory(role="committee", committee=pharmacy_setup["committees"][0])
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw))
    response = client.post(
        f"/api/v1/rounds/{pharmacy_setup['round'].pk}/allocations",
        {"date": pharmacy_setup["today"].isoformat()},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 403
    assert "只有街道或区的工作人员" in response.json()["detail"]
