"""Screenshots of each role's main pages at phone size (390×844), to look at: written to
``test-artifacts/screens/<role>-<page>.png``. Each page must load (HTTP 200) and fit the
phone's width (no sideways scrolling): residents, desk staff, the pharmacist's terminal
(a valid and a refused verdict) and the official's dashboard.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import flows
from tests.e2e.conftest import ARTIFACTS
from tests.support.language import is_chinese_only

pytestmark = pytest.mark.e2e
SCREENS = ARTIFACTS.parent / "screens"
COMMITTEE = "KJ24"
DESK = "KJ22"  # committee22's; no other browser test registers there


def _shot(page, name: str) -> None:
    """Save the page as ``<name>.png`` after checking it loaded and fits the screen."""
    page.wait_for_load_state("load")
    status = page.evaluate("() => performance.getEntriesByType('navigation')[0].responseStatus")
    assert status == 200, (name, page.url, status)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    assert widths[0] <= widths[1], f"{name}: {page.url} is {widths[0]}px wide on {widths[1]}px"


def _street_shared_by_compounds(data_dir: str) -> str:
    """A street that several compounds share: its search lists places, not one form."""
    rows = flows.server_rows(data_dir, "SELECT DISTINCT compound FROM community_building")
    compounds = [str(row[0]) for row in rows]
    streets = [m.group(0) for c in compounds if (m := re.match(r"\D+路", c))]
    return max(set(streets), key=streets.count)


def test_resident_pages(page, app_server):
    data_dir = app_server.env["FAIRSHARE_DATA_DIR"]
    round_id = flows.open_round_id(app_server.url)
    page.goto(app_server.url + "/")
    _shot(page, "resident-home")
    page.goto(app_server.url + "/?q=" + _street_shared_by_compounds(data_dir))
    _shot(page, "resident-search")

    compound, building, room, name = flows.roster_household(
        data_dir, code=COMMITTEE, delivery=False
    )
    page.goto(f"{app_server.url}/r/{round_id}/{COMMITTEE}/")
    page.locator("#id_building").select_option(label=compound + building)
    page.locator("#id_room").select_option(label=room)
    page.locator("#id_name").fill(name)
    page.locator("#id_phone").fill("13512345691")
    _shot(page, "resident-form")
    page.locator("button[name=action][value=register]").click()
    expect(page).to_have_url(re.compile(r"/r/done/"))
    _shot(page, "resident-confirmation")
    page.goto(str(page.locator(".status-link a").get_attribute("href")))
    expect(page.locator("section.status-state")).to_have_count(1)
    _shot(page, "resident-status-waiting")

    issued = flows.register_and_allocate(app_server, code=COMMITTEE, index=-5, phone="13512345692")
    page.goto(app_server.url + "/r/status/")
    page.locator("#id_ticket").fill(issued.ticket)
    page.locator("#id_phone").fill(issued.phone)
    page.locator("#id_phone").press("Enter")
    expect(page.locator("section.status-state[data-state=voucher]")).to_have_count(1)
    _shot(page, "resident-status-voucher")
    page.goto(f"{app_server.url}/public/rounds/{round_id}/committees/{COMMITTEE}/")
    _shot(page, "resident-board")


def test_desk_staff_pages(page, app_server):
    round_id = flows.open_round_id(app_server.url)
    home = flows.household(app_server.url, DESK, -3)
    status, body = flows.post(  # a name not on the roster: waits in the review queue
        app_server.url,
        f"/api/v1/rounds/{round_id}/registrations",
        {
            "committee": DESK,
            "building": home["building"],
            "room": home["room"],
            "name": "王小明",
            "phone": "13512345693",
        },
    )
    assert status in (200, 201), body
    flows.log_in(page, app_server.url, "committee22")
    page.goto(f"{app_server.url}/r/desk/{round_id}/{DESK}/")
    _shot(page, "desk-desk")
    other = flows.household(app_server.url, DESK, -4)
    number = re.sub(r"\D", "", other["building"])
    page.locator("#id_q").fill(f"{number}-{other['room']}")
    page.locator("#id_q").press("Enter")
    expect(page.locator("#id_id_checked")).to_be_visible()
    page.locator("#id_id_checked").check()
    if not page.locator("#id_phone").input_value():
        page.locator("#id_phone").fill("13512345694")
    page.locator("#id_phone").press("Enter")
    expect(page).to_have_url(re.compile(r"/r/slip/\d+/"))
    _shot(page, "desk-slip")
    page.goto(app_server.url + "/r/review/")
    _shot(page, "desk-review")
    page.goto(f"{app_server.url}/r/desk/{round_id}/{DESK}/batch/")
    _shot(page, "desk-batch")


def test_pharmacist_terminal(page, app_server):
    issued = flows.register_and_allocate(app_server, code="KJ23", index=-6, phone="13512345695")
    flows.log_in(page, app_server.url, "pharmacy" + issued.committee["pharmacy"][1:])
    page.goto(app_server.url + "/pharmacy/scan/")
    expect(page.locator("html[data-scan-ready]")).to_have_count(1)
    code_input = page.locator("#code-input")
    code_input.fill(issued.code)
    code_input.press("Enter")
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", re.compile(r"^(ok|slot)$"))
    _shot(page, "pharmacist-terminal-valid")
    # One language: the out-of-slot detail read "This voucher's time slot is …" in English.
    texts = verdict.locator(".verdict-title, .verdict-detail").all_inner_texts()
    assert all(is_chinese_only(t) for t in texts if t.strip()), texts
    page.locator("#complete-sale").click()
    expect(verdict).to_have_attribute("data-verdict", "sold")
    code_input.press("Enter")  # dismiss, then the same code again: refused, already used
    expect(verdict).to_have_count(0)
    code_input.fill(issued.code)
    code_input.press("Enter")
    expect(verdict).to_have_attribute("data-verdict", "used")
    _shot(page, "pharmacist-terminal-refused")


def test_official_dashboard(page, app_server):
    flows.log_in(page, app_server.url, "subdistrict")
    page.goto(
        f"{app_server.url}/public/staff/rounds/{flows.open_round_id(app_server.url)}/dashboard/"
    )
    _shot(page, "official-dashboard")
