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
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
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


def _spoken_address(compound: str, building: str, room: str) -> str:
    """``控江路１２００弄１２号３０１室``: the address as a resident types it."""
    spoken = compound + building + (room + "室" if "弄" in compound else "")
    return spoken.translate(FULL_WIDTH)


def _register_from_search(page, server, place: dict, *, delivery: bool, phone: str) -> str:
    """Search the address on the home page, register on the form it opens: the personal
    status link the confirmation page gives."""
    data_dir = server.env["FAIRSHARE_DATA_DIR"]
    compound, building, room, name = flows.roster_household(
        data_dir, code=place["code"], delivery=delivery
    )
    page.goto(server.url + "/")
    search = page.get_by_role("searchbox", name=re.compile("查找您的住址"))
    search.fill(_spoken_address(compound, building, room))
    search.press("Enter")
    if "/r/" not in page.url:  # several places matched: the result list links each form
        page.get_by_role("link", name=re.compile(re.escape(compound + building))).first.click()
    expect(page).to_have_url(re.compile(rf"/r/\d+/{place['code']}/\?building=\d+$"))
    expect(page.locator("#id_building option:checked")).to_have_text(compound + building)
    page.locator("#id_room").select_option(label=room)
    page.locator("#id_name").fill(name)
    page.locator("#id_phone").fill(phone)
    if page.locator("#id_sms_code").count():  # the round asks for an SMS code
        page.locator("button[name=action][value=send_code]").click()
        page.locator("#id_sms_code").fill(flows.sms_code(data_dir, phone))
    page.locator("button[name=action][value=register]").click()
    expect(page).to_have_url(re.compile(r"/r/done/"))
    link = page.locator(".status-link a")
    expect(link).to_have_count(1)
    return str(link.get_attribute("href"))


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
    pickup_link = _register_from_search(
        page, app_server, place, delivery=False, phone="13512345681"
    )
    delivery_link = _register_from_search(
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
