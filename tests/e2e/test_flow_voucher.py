"""From supply to purchase: the resident sees the voucher, the pharmacy redeems the typed
code (once), and the public board and building map show the household as bought.

Supply and allocation have no pages yet (they are staff API calls), so the module's
``issued`` fixture makes them through the JSON API, as the subdistrict's tools do.
Each test also runs alone: the board test redeems through the API when the terminal
test did not run before it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import flows

pytestmark = pytest.mark.e2e

COMMITTEE = "KJ01"


@pytest.fixture(scope="module")
def issued(app_server) -> flows.IssuedVoucher:
    return flows.register_and_allocate(app_server, code=COMMITTEE, index=2, phone="13612345604")


def test_status_page_shows_the_voucher(page, app_server, issued):
    page.goto(app_server.url + "/r/status/")
    page.locator("#id_ticket").fill(issued.ticket)
    page.locator("#id_phone").fill(issued.phone)
    page.get_by_role("button", name="查询").click()

    card = page.locator("section.status-state[data-state=voucher]")
    expect(card.get_by_role("heading", name="您的购买凭证：到药店购买")).to_be_visible()
    expect(card).to_be_visible()
    expect(card).to_contain_text(issued.code)
    code_box = card.locator(".ticket").bounding_box()
    assert code_box and code_box["height"] < 60, code_box  # the code stays on one line
    expect(card).to_contain_text(issued.committee["pharmacy_name"])
    expect(card).to_contain_text(flows.today())
    expect(card).to_contain_text(re.compile(r"\d\d:\d\d–\d\d:\d\d"))
    expect(card).to_contain_text("稳健医疗")
    expect(card).to_contain_text("¥9.90")
    qr = card.locator("svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box and box["width"] >= 120, box  # big enough to scan off a phone screen
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow


def test_pharmacy_redeems_typed_code_once(page, app_server, issued):
    flows.log_in(
        page,
        app_server.url,
        "pharmacy" + issued.committee["pharmacy"][1:],
        next_path="/pharmacy/scan/",
    )
    expect(page).to_have_url(re.compile(r"/pharmacy/scan/$"))
    # Type only once scan.js drives the page (before that, Enter posts the no-JS form).
    expect(page.locator("html[data-scan-ready]")).to_have_count(1)

    code_input = page.locator("#code-input")
    code_input.fill(issued.code)
    code_input.press("Enter")
    card = page.locator("#voucher-card")
    expect(card).to_contain_text(issued.code)
    expect(card).to_contain_text("¥9.90")
    page.locator("#complete-sale").click()
    expect(page.locator("#result .notice-success")).to_be_visible()
    expect(page.locator("#result .notice-success")).to_contain_text("售")

    # The same code again: the terminal says it was already bought, and offers no sale.
    code_input.fill(issued.code)
    code_input.press("Enter")
    expect(page.locator("#result-error")).to_contain_text("已于")
    expect(page.locator("#complete-sale")).to_have_count(0)


def test_board_and_map_show_the_household_as_bought(page, app_server, issued):
    if flows.redeem(app_server.url, issued) not in (200, 409):
        pytest.fail("the voucher could not be redeemed")
    home = issued.household
    base = f"{app_server.url}/public/rounds/{issued.round_id}/committees/{COMMITTEE}"

    page.goto(base + "/")
    page.locator("input[name=building]").fill(re.sub(r"\D", "", home["building"]))
    page.locator("input[name=room]").fill(home["room"])
    page.locator("form.board-search button[type=submit]").click()
    row = page.locator("table.board tbody tr", has_text=home["room"])
    expect(row).to_have_count(1)
    expect(row).to_contain_text("已购")

    page.get_by_role("link", name=re.compile("楼栋")).first.click()
    expect(page).to_have_url(re.compile(r"/map/$"))
    block = page.locator("section.map-block", has_text=home["compound"] + home["building"])
    cell = block.locator(".map-grid .cell", has_text=home["room"]).first
    expect(cell).to_have_class(re.compile(r"\bcell-bought\b"))
    color = cell.evaluate("el => getComputedStyle(el).backgroundColor")
    assert color == "rgb(198, 40, 40)", color  # red
