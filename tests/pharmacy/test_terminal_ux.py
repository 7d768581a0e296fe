"""The till (issue 15): login lands on the terminal, a full-screen verdict per answer,
a voucher outside its time slot is sold only once confirmed, the service worker."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest
from django.utils import timezone

from fairshare.allocation.models import Voucher
from fairshare.pharmacy.models import Redemption
from tests.factories import UserFactory
from tests.pharmacy.factories import sibling_voucher

pytestmark = pytest.mark.django_db
STATIC = Path(__file__).resolve().parents[2] / "src" / "fairshare"


def _login(client, username: str, next_url: str = "") -> str:
    url = "/accounts/login/" + (f"?next={next_url}" if next_url else "")
    answer = client.post(url, {"username": username, "password": "pw-for-tests-1"})
    assert answer.status_code == 302, answer.content.decode()[:500]
    return answer["Location"]


def test_pharmacy_staff_land_on_the_terminal(client, owner):
    assert _login(client, owner.username) == "/pharmacy/"


def test_pharmacy_staff_login_respects_next(client, owner):
    assert _login(client, owner.username, "/pharmacy/reconciliation/") == (
        "/pharmacy/reconciliation/"
    )


def test_other_roles_land_where_they_did(client, voucher):
    committee = UserFactory(role="committee", committee=voucher.committee)
    assert _login(client, committee.username) == "/accounts/"


def _verdict(answer) -> str:
    html = answer.content.decode()
    match = re.search(r'id="verdict" class="verdict verdict-(\w+)" data-verdict="(\w+)"', html)
    assert match, html[:2000]
    assert match.group(1) == match.group(2)
    return match.group(1)


def _post(client, code: str, action: str = "lookup", **extra: str):
    return client.post("/pharmacy/scan/", {"code": code, "action": action, **extra})


def test_valid_voucher_lookup_then_sale_show_green_verdicts(client, voucher, owner):
    client.force_login(owner)
    found = _post(client, voucher.code)
    assert _verdict(found) == "ok"
    assert "可以出售" in found.content.decode()
    assert 'id="complete-sale"' in found.content.decode()
    sold = _post(client, voucher.code, "redeem")
    html = sold.content.decode()
    assert _verdict(sold) == "sold"
    assert "已售出" in html and "✓" in html
    # The code field is empty after the sale; the panel's "next" link returns to it.
    assert re.search(r'<input id="code-input" name="code" value=""', html)
    assert 'id="verdict-dismiss"' in html
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.REDEEMED


def test_already_used_voucher_shows_red_verdict(client, voucher, owner):
    client.force_login(owner)
    _post(client, voucher.code, "redeem")
    for action in ("lookup", "redeem"):
        answer = _post(client, voucher.code, action)
        assert _verdict(answer) == "used"
        assert "已使用" in answer.content.decode()
    assert 'id="complete-sale"' not in answer.content.decode()


def test_other_pharmacys_voucher_shows_orange_verdict(client, voucher, stranger):
    client.force_login(stranger)
    for action in ("lookup", "redeem"):
        answer = _post(client, voucher.code, action)
        assert answer.status_code == 403
        assert _verdict(answer) == "other"
        assert "不是本店的凭证" in answer.content.decode()
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.ISSUED


def test_unknown_code_shows_invalid_verdict(client, owner):
    client.force_login(owner)
    answer = _post(client, "ZZZZ-ZZZZZ-Z")
    assert _verdict(answer) == "invalid"
    assert "凭证无效" in answer.content.decode()


def _away_from_now() -> tuple[time, time]:
    """A half-hour slot today that does not contain the present moment."""
    if timezone.localtime().hour >= 12:
        return time(8, 30), time(9, 0)
    return time(20, 30), time(21, 0)


def test_outside_its_slot_asks_before_selling(client, voucher, owner):
    start, end = _away_from_now()
    voucher = sibling_voucher(
        voucher,
        slot_start=start,
        slot_end=end,
    )
    slot = f"{start:%H:%M}–{end:%H:%M}"
    client.force_login(owner)
    found = _post(client, voucher.code)
    assert _verdict(found) == "slot"
    assert f"本凭证的时段是 {slot}" in found.content.decode()
    assert 'name="confirm_outside_slot" value="1"' in found.content.decode()
    # A plain "complete the sale" (no confirmation) sells nothing and asks again.
    unconfirmed = _post(client, voucher.code, "redeem")
    assert _verdict(unconfirmed) == "slot"
    assert not Redemption.objects.filter(voucher=voucher).exists()
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.ISSUED
    confirmed = _post(client, voucher.code, "redeem", confirm_outside_slot="1")
    assert _verdict(confirmed) == "sold"
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.REDEEMED


def test_inside_its_slot_sells_without_asking(client, voucher, owner):
    voucher = sibling_voucher(
        voucher,
        slot_start=time(0, 0),
        slot_end=time(23, 59, 59),
    )
    client.force_login(owner)
    assert _verdict(_post(client, voucher.code)) == "ok"
    assert _verdict(_post(client, voucher.code, "redeem")) == "sold"


def test_api_redeem_contract_is_unchanged_outside_the_slot(client, voucher, owner):
    start, end = _away_from_now()
    voucher = sibling_voucher(
        voucher,
        slot_start=start,
        slot_end=end,
    )
    client.force_login(owner)
    answer = client.post(
        f"/api/v1/vouchers/{voucher.code}/redeem",
        {},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-slot-1",
    )
    assert answer.status_code == 200, answer.content


def test_service_worker_is_served_for_the_terminal_scope(client):
    answer = client.get("/pharmacy/sw.js")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/javascript")
    assert "no-cache" in answer["Cache-Control"]
    assert answer["Service-Worker-Allowed"] == "/pharmacy/"
    body = answer.content.decode()
    for url in ("/pharmacy/scan/", "/static/pharmacy/scan.js", "/static/vendor/jsqr/jsQR.js"):
        assert f'"{url}"' in body
    assert "https://" not in body  # nothing from a CDN
    csp = answer["Content-Security-Policy"]
    assert "script-src 'self'" in csp  # worker-src falls back to script-src


def test_scan_page_registers_the_worker(client, owner):
    client.force_login(owner)
    html = client.get("/pharmacy/scan/").content.decode()
    assert 'data-sw="/pharmacy/sw.js"' in html
    script = (STATIC / "pharmacy" / "static" / "pharmacy" / "scan.js").read_text()
    assert "serviceWorker.register" in script


def _slot_shown(answer) -> str:
    shown = re.search(r'<dd data-field="slot">([^<]*)</dd>', answer.content.decode())
    assert shown, answer.content.decode()[:2000]
    return shown.group(1)


def test_a_voucher_without_slot_reads_any_time_of_the_day(client, voucher, owner):
    """A voucher with no time slot showed "时段 2026-12-03 –" on the terminal card."""
    client.force_login(owner)
    Voucher.objects.filter(pk=voucher.pk).update(slot_start=time(8, 30), slot_end=time(9, 0))
    # Negative control: a slotted voucher shows its slot.
    assert _slot_shown(_post(client, voucher.code)) == f"{voucher.date} 08:30–09:00"
    Voucher.objects.filter(pk=voucher.pk).update(slot_start=None, slot_end=None)
    assert _slot_shown(_post(client, voucher.code)) == f"{voucher.date} 当天任意时间"
