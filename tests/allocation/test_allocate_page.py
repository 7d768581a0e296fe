"""The allocation page: a preview first, the run only on a confirmation whose figures
are still current, and a result that reports issued, held for review and unused packs."""

from __future__ import annotations

import re

import pytest

from fairshare.allocation.models import Voucher
from fairshare.core.models import OutboxMessage
from tests.allocation.factories import Entry, queue_build

pytestmark = pytest.mark.django_db


def _supply(client, s, packs: str):
    data = {
        "pharmacy": s["pharmacy"].code,
        "date": s["today"].isoformat(),
        "packs": packs,
        "manufacturer": "上海某医疗用品有限公司",
        "style": "一次性医用口罩",
        "unit_price": "9.90",
    }
    assert client.post("/vouchers/supply/", data).status_code == 302


def _form(s):
    return {"round": str(s["round"].pk), "date": s["today"].isoformat(), "pharmacy": ""}


@pytest.fixture
def queue(pharmacy_setup, client, subdistrict_user):
    s = pharmacy_setup
    entries = [Entry(), Entry(status="pending_review"), Entry(), Entry(), Entry()]
    queue_build(round=s["round"], committee=s["committees"][0], entries=entries)
    client.force_login(subdistrict_user)
    _supply(client, s, "5")  # 5 packs, 4 verified households: 1 pack stays unused
    return s


def test_preview_shows_the_figures_and_writes_nothing(client, queue):
    page = client.post("/vouchers/allocate/", _form(queue))
    assert page.status_code == 200
    assert not Voucher.objects.exists() and not OutboxMessage.objects.exists()
    (row,) = [r for r in page.context["rows"] if r["committee"] == "A01"]
    assert (row["issued"], row["held_for_review"], row["sms"]) == (4, 1, 4)
    assert page.context["preview"].packs_unused == 1
    text = re.sub(r"\s+", " ", page.content.decode())
    assert "4 张购买凭证将发放" in text and "1 包未分配" in text and "将发送 4 条短信" in text
    assert 'name="confirm"' in text  # the confirmation form


def test_confirmation_runs_and_reports_issued_held_and_unused(client, queue):
    preview = client.post("/vouchers/allocate/", _form(queue))
    done = client.post("/vouchers/allocate/", _form(queue) | {"confirm": preview.context["token"]})
    assert done.status_code == 200
    result = done.context["result"]
    assert (result.issued, result.held_for_review, result.packs_unused) == (4, 1, 1)
    assert Voucher.objects.count() == 4
    text = re.sub(r"\s+", " ", done.content.decode())
    assert "待审核暂缓: 1" in text and "未分配的包数: 1" in text


def test_stale_confirmation_is_refused_and_previewed_again(client, queue):
    s = queue
    preview = client.post("/vouchers/allocate/", _form(s))
    old = preview.context["token"]
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()])
    stale = client.post("/vouchers/allocate/", _form(s) | {"confirm": old})
    assert stale.status_code == 409
    assert not Voucher.objects.exists()  # nothing issued on a stale preview
    text = stale.content.decode()
    assert "数字已变化" in text and "4 → 5" in text
    # Confirming the new preview runs it.
    done = client.post("/vouchers/allocate/", _form(s) | {"confirm": stale.context["token"]})
    assert done.status_code == 200 and Voucher.objects.count() == 5


def test_forged_or_foreign_confirmation_is_refused(client, queue):
    forged = client.post("/vouchers/allocate/", _form(queue) | {"confirm": "abc:def"})
    assert forged.status_code == 409 and not Voucher.objects.exists()


def test_double_submitted_confirmation_issues_once(client, queue):
    preview = client.post("/vouchers/allocate/", _form(queue))
    token = re.search(r'name="form_token" value="([^"]+)"', preview.content.decode()).group(1)
    body = _form(queue) | {"confirm": preview.context["token"], "form_token": token}
    first = client.post("/vouchers/allocate/", body)
    second = client.post("/vouchers/allocate/", body)
    assert first.status_code == 200 and second.status_code == 302  # redirected, not re-run
    assert Voucher.objects.count() == 4 and OutboxMessage.objects.count() == 4


def test_api_reports_unused_packs(client, queue, subdistrict_user):
    from tests.allocation.test_api import _auth

    response = client.post(
        f"/api/v1/rounds/{queue['round'].pk}/allocations",
        {"date": queue["today"].isoformat(), "dry_run": True},
        content_type="application/json",
        **_auth(subdistrict_user),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["issued"], body["held_for_review"], body["packs_unused"]) == (4, 1, 1)
