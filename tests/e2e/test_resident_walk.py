"""A resident's whole walk on a phone: the home page's address search (typed as people say
it, full-width digits and 弄/号/室) → the committee's form with the building chosen →
registered → the status page from the personal signed link (never ticket + phone) →
staff run the allocation → the same link shows a voucher that matches how the household
gets its packs: at the pharmacy (name, slot, packs, what to bring), or, for a household
whose roster marks a member living alone, at home (never "go to the pharmacy").
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from playwright.sync_api import expect

from tests.e2e import flows

pytestmark = pytest.mark.e2e
PENDING = "待审核"
TO_PHARMACY = "到药店购买"


@pytest.fixture(scope="module")
def place(app_server) -> dict:
    """A committee of its own pharmacy, apart from the other flow tests' KJ01 and KJ02: the
    allocation here issues no voucher another test relies on not having."""
    committees = flows.get_json(app_server.url + "/api/v1/committees")
    per_pharmacy = Counter(c["pharmacy"] for c in committees)
    busy = {c["pharmacy"] for c in committees if c["code"] in ("KJ01", "KJ02")}
    alone = [c for c in committees if per_pharmacy[c["pharmacy"]] == 1]
    return (alone or [c for c in committees if c["pharmacy"] not in busy])[-1]


def _one_state(page, state: str):
    """The status page shows exactly one state, and no review wording next to a voucher."""
    cards = page.locator("section.status-state")
    expect(cards).to_have_count(1)
    expect(cards).to_have_attribute("data-state", state)
    assert page.locator("#id_ticket").count() == 0  # opened without retyping ticket/phone
    if state == "voucher":
        expect(page.locator("body")).not_to_contain_text(PENDING)
        expect(page.locator("body")).not_to_contain_text("排队等候")
    return cards


def test_resident_walks_from_address_search_to_a_voucher(page, app_server, place):
    pickup_link = flows.register_from_search(
        page, app_server, place, delivery=False, phone="13512345681"
    )
    delivery_link = flows.register_from_search(
        page, app_server, place, delivery=True, phone="13512345682"
    )
    assert pickup_link != delivery_link

    page.goto(pickup_link)
    card = _one_state(page, "waiting")
    expect(card).to_contain_text("排队等候购买凭证")
    expect(page.locator("body")).not_to_contain_text(PENDING)
    expect(card).not_to_contain_text(TO_PHARMACY)

    vouchers = flows.supply_and_allocate(app_server, code=place["code"])
    assert any(v["committee"] == place["code"] for v in vouchers), vouchers

    page.reload()
    card = _one_state(page, "voucher")
    expect(card.get_by_role("heading", name="您的购买凭证：到药店购买")).to_be_visible()
    expect(card).to_contain_text(place["pharmacy_name"])
    expect(card).to_contain_text(flows.today())
    expect(card).to_contain_text(re.compile(r"\d\d:\d\d–\d\d:\d\d"))
    expect(page.locator(".status-packs")).to_contain_text(re.compile(r"您家可购 \d+ 份"))
    expect(page.locator(".status-bring")).to_contain_text("购买凭证编号或其二维码")

    page.goto(delivery_link)
    card = _one_state(page, "voucher")
    expect(card.get_by_role("heading", name="您的购买凭证：送货上门")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(TO_PHARMACY)
    expect(page.locator("body")).not_to_contain_text(place["pharmacy_name"])
    expect(page.locator(".status-bring")).to_contain_text("送到您家")
    assert page.locator(".voucher-qr").count() == 0
