"""Browser tests that work on the foundation: home page languages, staff login and scoping."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e import flows
from tests.support.liveserver import http

pytestmark = pytest.mark.e2e


def test_home_is_chinese_and_switches_to_english(page, app_server):
    page.goto(app_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("口罩预约登记购买")
    # The seeded committees and their designated pharmacies are listed.
    expect(page.locator("table tbody tr")).to_have_count(25)

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mask reservation and purchase")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # The choice sticks for the next page, and the switch offers Chinese back.
    page.goto(app_server.url + "/")
    expect(page.get_by_role("button", name="中文")).to_be_visible()


def test_committee_staff_sees_only_own_households(desktop_page, app_server):
    page = desktop_page
    committees = json.loads(http("GET", app_server.url + "/api/v1/committees")[2])
    kj01 = next(c for c in committees if c["code"] == "KJ01")
    own = json.loads(http("GET", app_server.url + "/api/v1/committees/KJ01/households")[2])
    assert own, "the seed gave KJ01 no households"

    flows.log_in(page, app_server.url, "committee01")
    expect(page.get_by_role("button", name=re.compile("committee01"))).to_be_visible()

    page.goto(app_server.url + "/admin/community/household/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(len(own))
    committee_cells = page.locator("#result_list tbody td.field-committee")
    assert set(committee_cells.all_inner_texts()) == {kj01["name"]}
