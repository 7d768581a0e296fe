"""The resident status page shows one coherent state (issue 15), the same as the API.

Every state comes from ``allocation/resident_state.py``: the page (by ticket + phone or
by the signed personal link ``/r/s/<token>/``) and ``POST
/api/v1/registrations/{ticket}/status`` render it, so they cannot disagree.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import segno
from django.core import signing
from django.test import Client
from django.utils import timezone

from fairshare.allocation.models import Requeue, Voucher
from fairshare.registration.models import Registration
from fairshare.registration.status_link import status_link_path, status_token_make
from fairshare.registration.tickets import ticket_new
from tests.allocation.factories import Entry, queue_build
from tests.factories import (
    CommitteeFactory,
    MemberFactory,
    RegistrationFactory,
    RoundFactory,
    SupplyDeclarationFactory,
    UserFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _no_ratelimit(settings):
    settings.RATELIMIT_ENABLED = False


def _reg(**kwargs) -> Registration:
    """A registration with a real ticket (the lookup by ticket + phone checks its form)."""
    return RegistrationFactory(phone=PHONE, ticket=ticket_new(), **kwargs)


@pytest.fixture
def registration():
    return _reg(status=Registration.Status.VERIFIED)


def _page(client: Client, registration: Registration) -> str:
    response = client.get(status_link_path(registration))
    assert response.status_code == 200
    return response.content.decode()


def _state_of(html: str) -> list[str]:
    return re.findall(r'data-state="([a-z_]+)"', html)


def _api(client: Client, registration: Registration) -> dict:
    response = client.post(
        f"/api/v1/registrations/{registration.ticket}/status",
        {"phone": registration.phone},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def _check_agree(client: Client, registration: Registration, expected: str) -> str:
    """The link page, the ticket + phone page and the API show the same one state."""
    html = _page(client, registration)
    posted = client.post("/r/status/", {"ticket": registration.ticket, "phone": PHONE})
    assert _state_of(html) == _state_of(posted.content.decode()) == [expected]
    assert _api(client, registration)["state"]["state"] == expected
    return html


def test_pending_review_shows_no_voucher(client, registration):
    registration.status = Registration.Status.PENDING_REVIEW
    registration.save()
    html = _check_agree(client, registration, "pending_review")
    assert "等待居委会审核" in html and "购买凭证：" not in html and "voucher-qr" not in html
    assert _api(client, registration)["state"]["voucher"] is None


def test_issued_voucher_never_shows_pending_review(client, registration):
    registration.status = Registration.Status.PENDING_REVIEW
    registration.save()
    voucher = VoucherFactory(registration=registration)
    html = _check_agree(client, registration, "voucher")
    assert "待审核" not in html and "等待居委会审核" not in html
    assert "到药店购买" in html and voucher.pharmacy.address in html and "voucher-qr" in html
    assert "请带上购买凭证编号或其二维码" in html
    assert "您家可购 1 份" in html


def test_delivery_voucher_says_delivery_not_pharmacy(client, registration):
    MemberFactory(household=registration.household, lives_alone=True)
    voucher = VoucherFactory(registration=registration, fulfilment=Voucher.Fulfilment.DELIVERY)
    html = _check_agree(client, registration, "voucher")
    assert "送货上门" in html and "您无需去药店" in html
    assert "到药店购买" not in html and voucher.pharmacy.address not in html
    assert "voucher-qr" not in html
    state = _api(client, registration)["state"]
    assert state["voucher"]["fulfilment"] == "delivery"


def test_proxy_voucher_sends_to_the_pick_up_point(client, registration):
    committee = registration.committee
    committee.address = "长阳路100号居委会"
    committee.save()
    VoucherFactory(registration=registration, fulfilment=Voucher.Fulfilment.PROXY)
    html = _check_agree(client, registration, "voucher")
    assert "居委会代购" in html and "长阳路100号居委会" in html and "登记回执" in html
    assert "到药店购买" not in html


def test_bought_and_void(client, registration):
    VoucherFactory(
        registration=registration, status=Voucher.Status.REDEEMED, redeemed_at=timezone.now()
    )
    html = _check_agree(client, registration, "bought")
    assert "已购买" in html and "排队等候" not in html
    other = _reg(status=Registration.Status.VOID, void_reason="重复登记")
    html = _check_agree(client, other, "void")
    assert "此登记已作废" in html and "重复登记" in html


def test_expired_and_dropped_no_longer_waits(client, registration):
    voucher = VoucherFactory(registration=registration, status=Voucher.Status.EXPIRED)
    Requeue.objects.create(
        round=registration.round,
        household=registration.household,
        registration=registration,
        voucher=voucher,
        outcome=Requeue.Outcome.DROPPED,
    )
    html = _check_agree(client, registration, "expired")
    assert "您的购买凭证已过期" in html


def test_waiting_shows_place_households_ahead_and_expected_day(client):
    committee = CommitteeFactory()
    round_obj = RoundFactory(district=committee.subdistrict.district)
    regs = queue_build(round=round_obj, committee=committee, entries=[Entry()] * 6)
    for reg in regs:
        reg.phone, reg.ticket = PHONE, ticket_new()
    Registration.objects.bulk_update(regs, ["phone", "ticket"])
    mine = regs[4]  # queue number 5: 4 ahead, of which 2 are served and 1 void
    # No supply seen yet: the expected day is unknown.
    html = _check_agree(client, mine, "waiting")
    assert "暂不确定" in html
    assert "排在您前面还在等候的有 4 户" in html
    # Two of those ahead got a voucher (2 packs confirmed today), one was voided.
    declaration = SupplyDeclarationFactory(supply_day__pharmacy=committee.pharmacy, packs=2)
    for reg in regs[:2]:
        VoucherFactory(registration=reg, declaration=declaration)
    Registration.objects.filter(pk=regs[2].pk).update(status=Registration.Status.VOID)
    html = _check_agree(client, mine, "waiting")
    assert "排在您前面还在等候的有 1 户" in html  # only queue number 4
    assert f"<strong>{mine.queue_number}</strong>" in html
    # 2 packs a day, 1 per household, one committee: 2 households a day, so the one
    # ahead and this household are both served on the next supply day.
    expected = timezone.localdate() + timedelta(days=1)
    assert expected.strftime("%Y-%m-%d") in html
    state = _api(client, mine)["state"]
    assert state["ahead"] == 1 and state["queue_number"] == 5
    assert state["expected_date"] == expected.isoformat()
    # The last one waits behind two households: a day later.
    last = _api(client, regs[5])["state"]
    assert last["ahead"] == 2
    assert last["expected_date"] == (expected + timedelta(days=1)).isoformat()


def test_personal_link_opens_without_ticket_or_phone(client, registration):
    response = client.get(status_link_path(registration))
    assert response.status_code == 200
    html = response.content.decode()
    assert registration.ticket[:3] in html and 'name="phone"' not in html
    assert PHONE not in html and registration.name not in html
    assert PHONE not in status_token_make(registration)


def test_tampered_or_foreign_token_is_not_found(client, registration):
    token = status_token_make(registration)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.get(f"/r/s/{tampered}/").status_code == 404
    unsalted = signing.dumps([registration.pk, registration.ticket])
    assert client.get(f"/r/s/{unsalted}/").status_code == 404
    assert client.get("/r/s/nonsense/").status_code == 404


def test_link_refused_after_the_personal_data_purge(client, registration):
    Registration.objects.filter(pk=registration.pk).update(personal_data_purged_at=timezone.now())
    response = client.get(status_link_path(registration))
    assert response.status_code == 404
    html = response.content.decode()
    assert "此链接已失效" in html and "data-state" not in html


def test_confirmation_and_slip_carry_the_personal_link(client, registration, monkeypatch):
    # The link's signature carries a timestamp in seconds: hold it still, so that the
    # link the test recomputes is the page's even when a second passes in between.
    stamp = signing.TimestampSigner().timestamp()
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: stamp)
    session = client.session
    session["registration_tickets"] = [registration.ticket]
    session.save()
    done = client.get(f"/r/done/{registration.ticket}/")
    assert done.status_code == 200
    assert f'href="http://testserver{status_link_path(registration)}"' in done.content.decode()
    staff = UserFactory(role="committee", committee=registration.committee)
    client.force_login(staff)
    slip = client.get(f"/r/slip/{registration.pk}/")
    assert slip.status_code == 200
    html = slip.content.decode()
    assert 'class="status-link-qr"><svg' in html
    # The QR carries the link: segno draws the same SVG from the same URL.
    url = "http://testserver" + status_link_path(registration)
    assert segno.make(url, error="m").svg_inline(scale=4, border=2) in html
