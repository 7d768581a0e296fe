"""Text sizes, tap targets and contrast measured on every resident page (home, address
search, registration form, photo and appointment pages, the building poster, the
confirmation, the status page with and without a voucher, the public board and map, the
privacy notice) at 360×740, 390×844 and 1366×900, in normal and elder mode (长辈模式):
computed font sizes, tap-target boxes and text contrast computed from the computed colours
(tests/e2e/measure.js). Normal mode: every text ≥ 18 px (small print, footnotes and the
privacy notice too: the elderly read them as well), targets ≥ 44×44. Elder mode (MIIT
2021 适老化): text ≥ 18 pt (24 px), the largest ≥ 30 pt (40 px), targets ≥ 60×60.
Contrast ≥ 4.5:1 in both. Links inside a sentence are exempt from the target size
(WCAG 2.5.8)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, DESKTOP, PHONE, _page
from tests.e2e.flows import household, open_round_id, register_and_allocate

pytestmark = pytest.mark.e2e
MEASURE = (Path(__file__).parent / "measure.js").read_text(encoding="utf-8")
SMALL_PHONE = {"width": 360, "height": 740}
SIZES = {"360": SMALL_PHONE, "390": PHONE, "1366": DESKTOP}
PT = 4 / 3  # CSS px per point
REGISTERS = "KJ05"  # each run registers one of its households (the confirmation page)
HOLDS_VOUCHER = "KJ06"  # one household with a voucher (the status page)


@pytest.fixture(params=list(SIZES))
def sized_page(browser, request):
    """A small phone (360×740), a phone (390×844) and a desktop (1366×900) page."""
    phone = request.param != "1366"
    viewport = SIZES[request.param]
    yield from _page(browser, request, viewport=viewport, is_mobile=phone, has_touch=phone)


@pytest.fixture(scope="module")
def voucher(app_server):
    return register_and_allocate(app_server, code=HOLDS_VOUCHER, index=-2, phone="13912345661")


def _measure(page, name: str, mode: str):
    width = page.viewport_size["width"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / f"{width}-{mode}-{name.replace(' ', '-')}.png"), full_page=True
    )
    # Against the emulated screen, not window.innerWidth: a phone browser widens its layout
    # viewport to fit content that is too wide, which would hide the overflow.
    overflow = page.evaluate("document.documentElement.scrollWidth") - width
    assert overflow <= 0, f"{name} ({mode}, {width}px) is {overflow}px wider than the screen"
    return f"{name} @{width}", page.evaluate(MEASURE)


_REGISTERED: list[int] = []


def _register(page, base: str, round_id: int):
    """Register a household of REGISTERS through the form: the confirmation page."""
    index = len(_REGISTERED) + 10
    _REGISTERED.append(index)
    home = household(base, REGISTERS, index)
    page.goto(base + f"/r/{round_id}/{REGISTERS}/")
    page.locator("#id_building").select_option(label=home["compound"] + home["building"])
    expect(page.locator("#id_room")).to_be_visible()
    page.locator("#id_room").select_option(label=home["room"])
    page.locator("#id_name").fill("王桂兰")
    page.locator("#id_phone").fill(f"139123457{index:02d}")
    page.locator("button[name=action][value=register]").click()
    expect(page).to_have_url(re.compile(r"/r/done/"))


def _registration_pages(page, base: str, mode: str, round_id: int):
    entry = base + f"/r/{round_id}/KJ01/"
    page.goto(entry)
    page.locator("#id_building").select_option(index=1)  # the list reloads with the rooms
    expect(page.locator("#id_room")).to_be_visible()
    building = page.locator("#id_building").input_value()
    yield _measure(page, "registration form", mode)
    page.goto(entry + "photo/")
    yield _measure(page, "photo registration", mode)
    page.goto(entry + "appointment/")
    yield _measure(page, "appointment", mode)
    page.goto(entry + f"poster/{building}/")
    yield _measure(page, "poster", mode)
    _register(page, base, round_id)
    yield _measure(page, "confirmation", mode)


def _resident_pages(page, base: str, mode: str, voucher=None):
    """Yield (name, measurements) for every page a resident sees."""
    round_id = open_round_id(base)
    page.goto(base + "/")
    yield _measure(page, "home", mode)
    page.goto(base + "/?q=" + quote("图们路"))
    yield _measure(page, "address search", mode)
    yield from _registration_pages(page, base, mode, round_id)
    page.goto(base + "/r/status/")
    yield _measure(page, "status lookup", mode)
    if voucher is not None:
        page.locator("#id_ticket").fill(voucher.ticket)
        page.locator("#id_phone").fill(voucher.phone)
        page.locator("main form button[type=submit]").click()
        expect(page.locator("main")).to_contain_text(voucher.code[:4])
        yield _measure(page, "status with voucher", mode)
    board = base + f"/public/rounds/{round_id}/"
    for name, url in (
        ("round board", board),
        ("committee board", board + "committees/KJ01/"),
        ("building map", board + "committees/KJ01/map/"),
        ("privacy", base + "/privacy/"),
    ):
        page.goto(url)
        yield _measure(page, name, mode)


def _too_small(targets, side):
    return [t for t in targets if t["width"] < side - 0.5 or t["height"] < side - 0.5]


def _problems(name, m, *, text: float, largest: float, side: float) -> list:
    """What a page breaks of the sizes: small text, a small largest text, small targets,
    faint text (empty when it passes)."""
    found = []
    if m["minText"] < text - 0.01:
        found.append((name, "text", m["minText"], m["minTextAt"]))
    if m["maxText"] < largest - 0.01:
        found.append((name, "largest", m["maxText"]))
    if _too_small(m["targets"], side):
        found.append((name, "targets", _too_small(m["targets"], side)))
    if m["lowContrast"]:
        found.append((name, "contrast", m["lowContrast"]))
    return found


def _figures(m):
    return m["minText"], m["maxText"], min(min(t["width"], t["height"]) for t in m["targets"])


def test_normal_mode_text_18px_targets_44px_and_contrast(sized_page, app_server, voucher):
    """Every resident page: body text (footnotes and the privacy notice included) ≥ 18 px,
    targets ≥ 44×44, contrast ≥ 4.5:1, at small-phone, phone and desktop width."""
    figures, problems = {}, []
    for name, m in _resident_pages(sized_page, app_server.url, "normal", voucher):
        figures[name] = _figures(m)
        problems += _problems(name, m, text=18, largest=18, side=44)
    print("normal mode (min text px, max text px, smallest target side px):", figures)
    assert not problems, problems


def test_elder_mode_raises_text_and_targets_to_the_miit_sizes(sized_page, app_server, voucher):
    """Elder mode: text ≥ 18 pt (24 px, above the 22 px floor), the largest ≥ 30 pt
    (40 px), targets ≥ 60×60, at small-phone, phone and desktop width."""
    page = sized_page
    page.goto(app_server.url + "/")
    page.get_by_role("button", name="长辈模式").click()
    expect(page.locator("html")).to_have_class("elder")
    expect(page.get_by_role("button", name="长辈模式：已开启")).to_have_attribute(
        "aria-pressed", "true"
    )
    figures, problems = {}, []
    for name, m in _resident_pages(page, app_server.url, "elder", voucher):
        figures[name] = _figures(m)
        problems += _problems(name, m, text=18 * PT, largest=30 * PT, side=60)
    print("elder mode (min text px, max text px, smallest target side px):", figures)
    assert not problems, problems
    # The cookie keeps it on; the same button switches it off again.
    page.goto(app_server.url + "/")
    page.get_by_role("button", name="长辈模式：已开启").click()
    expect(page.locator("html")).not_to_have_class("elder")


@pytest.fixture
def small_page(browser, request):
    yield from _page(browser, request, viewport=SMALL_PHONE, is_mobile=True, has_touch=True)


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
