"""The public board on a 360 px wide phone: stacked cards, never one-character columns
(issue 15), with the policy statement and the labelled times on the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import flows

pytestmark = pytest.mark.e2e

COMMITTEE = "KJ09"

# Every visible cell of the board, its width and the width of one character of its font.
MEASURE = """() => [...document.querySelectorAll('table.board th, table.board td')]
  .filter(el => el.getClientRects().length && getComputedStyle(el).display !== 'none'
          && el.getBoundingClientRect().height > 1)
  .map(el => ({text: el.innerText.trim(), width: el.getBoundingClientRect().width,
               em: parseFloat(getComputedStyle(el).fontSize)}))"""


def test_board_at_360px_has_no_column_narrower_than_three_characters(page, app_server):
    voucher = flows.register_and_allocate(app_server, code=COMMITTEE, index=2, phone="13900000931")
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(f"{app_server.url}/public/rounds/{voucher.round_id}/committees/{COMMITTEE}/")
    expect(page.get_by_role("heading", name="供应顺序如何决定")).to_be_visible()
    expect(page.locator("table.board tbody tr").first).to_be_visible()
    cells = page.evaluate(MEASURE)
    assert cells, "no board cell is visible"
    narrow = [c for c in cells if c["width"] < 3 * c["em"]]
    assert not narrow, narrow[:5]
    # The page itself does not scroll sideways on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1
    # Each stacked cell names its column (录入时间 fixes the queue number).
    first = page.locator("table.board tbody tr").first
    expect(first.locator('td[data-label="录入时间"] time')).to_be_visible()
    expect(first.locator('td[data-label="状态"]')).to_contain_text("已发")


# The dashboard's column headings and chart labels, as drawn on the screen.
HEADINGS = """() => [...document.querySelectorAll('.board-table table.compact th')]
  .filter(el => el.getClientRects().length)
  .map(el => ({text: el.innerText.trim(), height: el.getBoundingClientRect().height,
               line: parseFloat(getComputedStyle(el).lineHeight)
                     || 1.5 * parseFloat(getComputedStyle(el).fontSize)}))"""
CHART_TEXT = """() => [...document.querySelectorAll('svg.chart text')]
  .map(el => ({text: el.textContent, height: el.getBoundingClientRect().height}))"""


def test_dashboard_at_360px_keeps_headings_on_one_line_and_chart_labels_readable(page, app_server):
    """The official's dashboard on a phone (seen in its 390 px screenshot): a heading like
    已发凭证 stood one character a line and chart labels were scaled to 6-7 px."""
    page.set_viewport_size({"width": 360, "height": 780})
    flows.log_in(page, app_server.url, "subdistrict")
    page.goto(
        f"{app_server.url}/public/staff/rounds/{flows.open_round_id(app_server.url)}/dashboard/"
    )
    headings = page.evaluate(HEADINGS)
    assert any(h["text"] == "已发凭证" for h in headings), headings
    wrapped = [h for h in headings if h["height"] > 1.6 * h["line"] + 16]  # one line + padding
    assert not wrapped, wrapped[:5]
    labels = page.evaluate(CHART_TEXT)
    assert labels, "no chart text"
    small = [t for t in labels if t["height"] < 13]  # 14 px text: its box is about 16 px
    assert not small, small[:5]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1
