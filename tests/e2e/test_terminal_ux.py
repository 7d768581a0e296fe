"""The till in a browser (issue 15): after a sale the full-screen verdict covers the
screen and the code field is empty and focused; the scan page reloads while offline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import flows

pytestmark = pytest.mark.e2e

COMMITTEE = "KJ03"


@pytest.fixture(scope="module")
def issued(app_server) -> flows.IssuedVoucher:
    return flows.register_and_allocate(app_server, code=COMMITTEE, index=4, phone="13612345677")


def _login(page, app_server, issued) -> None:
    flows.log_in(page, app_server.url, "pharmacy" + issued.committee["pharmacy"][1:])
    expect(page).to_have_url(re.compile(r"/pharmacy/$"))  # the terminal, not /accounts/
    page.goto(app_server.url + "/pharmacy/scan/")
    expect(page.locator("html[data-scan-ready]")).to_have_count(1)


def test_sale_shows_full_screen_verdict_and_refocuses_the_code_field(page, app_server, issued):
    _login(page, app_server, issued)
    code_input = page.locator("#code-input")
    code_input.fill(issued.code)
    code_input.press("Enter")
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", re.compile(r"^(ok|slot)$"))
    page.locator("#complete-sale").click()  # "complete" or, outside the slot, "sell anyway"
    expect(verdict).to_have_attribute("data-verdict", "sold")
    expect(verdict).to_contain_text("已售出")
    box = verdict.bounding_box()
    size = page.viewport_size
    assert box and size and box["width"] >= size["width"] and box["height"] >= size["height"]
    expect(code_input).to_have_value("")
    expect(code_input).to_be_focused()
    code_input.press("Enter")  # Enter dismisses the panel
    expect(verdict).to_have_count(0)
    expect(code_input).to_be_focused()
    # The same code again: red, already used.
    code_input.fill(issued.code)
    code_input.press("Enter")
    expect(verdict).to_have_attribute("data-verdict", "used")
    expect(verdict).to_contain_text("已使用")


def test_scan_page_reloads_while_offline(page, app_server, issued):
    _login(page, app_server, issued)
    expect(page.locator("html[data-sw-ready]")).to_have_count(1)
    page.evaluate("() => navigator.serviceWorker.ready")
    page.reload()  # now controlled by the worker, whose install cached the page
    expect(page.locator("html[data-scan-ready]")).to_have_count(1)
    page.context.set_offline(True)
    try:
        page.reload()
        expect(page.locator("html[data-scan-ready]")).to_have_count(1)
        expect(page.locator("#code-input")).to_be_visible()
        expect(page.locator("#net-status")).to_have_class(re.compile("offline"))
    finally:
        page.context.set_offline(False)
