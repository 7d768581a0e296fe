"""Find your place in the browser: the home page's address search (full-width digits, as
residents type them) opens the committee's form with the building chosen; the building
picker filters as you type, by keyboard, and the rooms come grouped by floor."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import household, open_round_id

pytestmark = pytest.mark.e2e
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_address_search_leads_to_the_form_with_the_building_chosen(page, app_server):
    home = household(app_server.url, "KJ01", 7)
    page.goto(app_server.url + "/")
    search = page.get_by_role("searchbox", name=re.compile("查找您的住址"))
    search.fill((home["compound"] + home["building"]).translate(FULL_WIDTH))
    search.press("Enter")
    expect(page).to_have_url(
        re.compile(rf"/r/{open_round_id(app_server.url)}/KJ01/\?building=\d+$")
    )
    chosen = page.locator("#id_building option:checked")
    expect(chosen).to_have_text(home["compound"] + home["building"])
    # The rooms are grouped by floor: the household's room is under its floor.
    floor = home["room"][:-2]
    group = page.locator(f'#id_room optgroup[label="{floor}楼"]')
    expect(group.locator("option", has_text=home["room"])).to_have_count(1)


def test_an_address_matching_nothing_says_so(page, app_server):
    page.goto(app_server.url + "/")
    page.get_by_role("searchbox", name=re.compile("查找您的住址")).fill("不存在路999弄1号")
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_role("alert")).to_contain_text("没有找到")


def test_the_building_picker_filters_as_you_type_and_enter_opens_the_rooms(page, app_server):
    home = household(app_server.url, "KJ01", 0)
    page.goto(app_server.url + f"/r/{open_round_id(app_server.url)}/KJ01/")
    total = page.locator("#id_building option").count()
    box = page.get_by_label("输入楼号查找")
    box.fill(home["compound"] + home["building"].translate(FULL_WIDTH))
    expect(page.locator("#id_building option")).to_have_count(2)  # the prompt and the match
    expect(page.locator("#id_building_count")).to_have_text("找到 1 栋楼")
    box.press("Enter")
    expect(page.locator("#id_room")).to_be_visible()
    expect(page.locator("#id_building option:checked")).to_have_text(
        home["compound"] + home["building"]
    )
    assert total > 2
