"""Elder mode (长辈模式) measured at 360×740 on the home page, the registration form and
the status page: computed font sizes, tap-target boxes and text contrast computed from the
computed colours (tests/e2e/measure.js). MIIT 2021 适老化 sizes: elder mode text ≥ 18 pt
(24 px), the largest ≥ 30 pt (40 px), targets ≥ 60×60; ≥ 44×44 in normal mode; contrast
≥ 4.5:1 in both. Links inside a sentence are exempt from the target size (WCAG 2.5.8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, _page
from tests.e2e.flows import open_round_id

pytestmark = pytest.mark.e2e
MEASURE = (Path(__file__).parent / "measure.js").read_text(encoding="utf-8")
SMALL_PHONE = {"width": 360, "height": 740}
PT = 4 / 3  # CSS px per point


@pytest.fixture
def small_page(browser, request):
    yield from _page(browser, request, viewport=SMALL_PHONE, is_mobile=True, has_touch=True)


def _measure(page, name: str, mode: str):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / f"360-{mode}-{name.replace(' ', '-')}.png"), full_page=True
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} ({mode}) is {overflow}px wider than the screen"
    return name, page.evaluate(MEASURE)


def _resident_pages(page, base: str, mode: str):
    """Yield (name, measurements) for the home page, the registration form, the status page."""
    page.goto(base + "/")
    yield _measure(page, "home", mode)
    page.goto(base + f"/r/{open_round_id(base)}/KJ01/")
    page.locator("#id_building").select_option(index=1)  # the list reloads with the rooms
    expect(page.locator("#id_room")).to_be_visible()
    yield _measure(page, "registration form", mode)
    page.goto(base + "/r/status/")
    yield _measure(page, "status", mode)


def _too_small(targets, side):
    return [t for t in targets if t["width"] < side - 0.5 or t["height"] < side - 0.5]


def test_normal_mode_targets_are_44px_and_text_contrasts(small_page, app_server):
    figures = {}
    for name, m in _resident_pages(small_page, app_server.url, "normal"):
        figures[name] = (
            m["minText"],
            m["maxText"],
            min(min(t["width"], t["height"]) for t in m["targets"]),
        )
        assert not _too_small(m["targets"], 44), (name, _too_small(m["targets"], 44))
        assert not m["lowContrast"], (name, m["lowContrast"])
        assert m["minText"] >= 14, (name, m["minTextAt"])
    print("normal mode (min text px, max text px, smallest target side px):", figures)


def test_elder_mode_raises_text_and_targets_to_the_miit_sizes(small_page, app_server):
    page = small_page
    page.goto(app_server.url + "/")
    page.get_by_role("button", name="长辈模式").click()
    expect(page.locator("html")).to_have_class("elder")
    expect(page.get_by_role("button", name="长辈模式：已开启")).to_have_attribute(
        "aria-pressed", "true"
    )
    figures = {}
    for name, m in _resident_pages(page, app_server.url, "elder"):
        figures[name] = (
            m["minText"],
            m["maxText"],
            min(min(t["width"], t["height"]) for t in m["targets"]),
        )
        assert m["minText"] >= 18 * PT - 0.01, (name, m["minText"], m["minTextAt"])
        assert m["maxText"] >= 30 * PT - 0.01, (name, m["maxText"])
        assert not _too_small(m["targets"], 60), (name, _too_small(m["targets"], 60))
        assert not m["lowContrast"], (name, m["lowContrast"])
    print("elder mode (min text px, max text px, smallest target side px):", figures)
    # The cookie keeps it on; the same button switches it off again.
    page.get_by_role("button", name="长辈模式：已开启").click()
    expect(page.locator("html")).not_to_have_class("elder")


def test_the_measurement_catches_small_targets_faint_text_and_small_type(small_page):
    """Negative control: the same measurement flags what the rules forbid."""
    small_page.set_content(
        '<html><body style="background:#fff"><p style="color:#aaa;font-size:12px">淡字</p>'
        '<button style="all:unset;font-size:12px">小</button>'
        '<p>在<a href="#x">句子里</a>的链接不算</p></body></html>'
    )
    m = small_page.evaluate(MEASURE)
    assert m["minText"] == 12
    assert [t["what"] for t in _too_small(m["targets"], 44)] == ["button “小”"]
    assert any(c.startswith("p “淡字”") for c in m["lowContrast"])
