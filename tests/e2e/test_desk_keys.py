"""The committee desk with the keyboard only, key presses counted (issues 15 and 16):
a walk-in without a mobile in at most 10 keys, with a mobile in at most 10 + its 11
digits, and a pre-filled mailbox form: the building's forms printed (PDF), one form's QR
decoded from its image, the scanner's text typed into the address field, then the
household registered in at most 3 keys after the scan.

Counted from the desk page with the focus in the address field; every key press counts
(Enter, Space, Tab), text typed key by key."""

from __future__ import annotations

import base64
import io
import re
import zlib

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e import flows

pytestmark = pytest.mark.e2e


class Keys:
    def __init__(self, page) -> None:
        self.page, self.count = page, 0

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.count += len(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.count += 1


def _desk(page, base_url: str) -> None:
    flows.log_in(page, base_url, "committee01")
    expect(page.get_by_role("button", name=re.compile("committee01"))).to_be_visible()
    page.goto(base_url + "/r/desk/")
    expect(page.locator("#id_q")).to_be_focused()


def _address(home) -> str:
    number = re.sub(r"\D", "", home["building"])
    return f"{number}-{home['room']}"


def test_walk_in_without_a_mobile_in_ten_keys(desktop_page, app_server):
    page = desktop_page
    home = flows.household(app_server.url, "KJ01", -2)
    _desk(page, app_server.url)
    keys = Keys(page)
    keys.type(_address(home))
    keys.press("Enter")
    expect(page.locator("#id_id_checked")).to_be_focused()
    expect(page.locator("#id_name")).not_to_have_value("")  # the roster name is taken
    keys.press("Space")
    keys.press("Enter")  # no mobile: the phone stays empty
    expect(page).to_have_url(re.compile(r"/r/slip/\d+/\?print=1$"))
    expect(page.locator("body")).to_contain_text(home["room"])
    expect(page.locator("body")).to_contain_text("没有手机")
    expect(page.locator("body")).to_contain_text("已查验证件")
    print(f"\ndesk keystrokes without a mobile: {keys.count}")
    assert keys.count <= 10


def test_walk_in_with_a_mobile_in_ten_keys_plus_its_digits(desktop_page, app_server):
    page = desktop_page
    home = flows.household(app_server.url, "KJ01", -3)
    _desk(page, app_server.url)
    keys = Keys(page)
    keys.type(_address(home))
    keys.press("Enter")
    expect(page.locator("#id_id_checked")).to_be_focused()
    keys.press("Space")
    expect(page.locator("#id_phone")).to_be_focused()  # desk.js, after the tick
    keys.type("13712345613")
    keys.press("Enter")
    expect(page).to_have_url(re.compile(r"/r/slip/\d+/"))
    expect(page.locator(".ticket").first).to_have_text(re.compile(r"[0-9A-Z]{3,}"))
    expect(page.locator("body")).not_to_contain_text("没有手机")
    print(f"\ndesk keystrokes with a mobile: {keys.count} (11 of them its digits)")
    assert keys.count <= 10 + 11


def _pdf_pages(pdf: bytes) -> list[bytes]:
    """The decoded content streams of a ReportLab PDF (ASCII85 + Flate)."""
    pages = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            pages.append(zlib.decompress(base64.a85decode(match.group(1).strip(), adobe=True)))
        except ValueError:
            continue
    return pages


def _qr_image(content: bytes) -> str:
    """The page's QR code redrawn from its filled modules, as a PNG data URL."""
    cells = [
        tuple(float(n) for n in m.groups())
        for m in re.finditer(rb"n ([\d.]+) ([\d.]+) ([\d.]+) [\d.]+ re f\*", content)
    ]
    size = cells[0][2]
    xs, ys = [c[0] for c in cells], [c[1] for c in cells]
    left, top = min(xs), max(ys)
    modules = round((max(xs) - left) / size) + 1
    scale, border = 8, 4
    side = (modules + 2 * border) * scale
    image = Image.new("L", (side, side), 255)
    for x, y, _w in cells:
        col, row = round((x - left) / size), round((top - y) / size)
        box = ((col + border) * scale, (row + border) * scale)
        image.paste(0, (*box, box[0] + scale, box[1] + scale))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


_DECODE = """async (url) => {
  const img = new Image(); img.src = url; await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext("2d"); ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height);
  const hit = window.jsQR(data.data, img.width, img.height);
  return hit ? hit.data : null;
}"""


def test_mailbox_form_scanned_at_the_desk_in_three_keys(desktop_page, app_server):
    page = desktop_page
    home = flows.household(app_server.url, "KJ01", 0)
    _desk(page, app_server.url)
    page.get_by_role("link", name="信箱登记表").click()
    link = page.get_by_role("link", name=re.compile(re.escape(home["compound"] + home["building"])))
    pdf = page.request.get(app_server.url + link.first.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    first = _pdf_pages(pdf.body())[0]
    printed = re.search(rb"\((FSM[^)]+)\) Tj", first).group(1).decode()
    page.go_back()
    expect(page.locator("#id_q")).to_be_focused()
    page.wait_for_function("() => !!window.jsQR")
    scanned = page.evaluate(_DECODE, _qr_image(first))
    assert scanned == printed  # the QR image carries the code printed under it
    page.keyboard.type(scanned)  # the USB scanner types the code, then Enter
    page.keyboard.press("Enter")
    expect(page.locator("#id_id_checked")).to_be_focused()
    expect(page.locator("body")).to_contain_text("已通过本户的信箱登记表打开")
    keys = Keys(page)
    keys.press("Space")
    keys.press("Enter")
    expect(page).to_have_url(re.compile(r"/r/slip/\d+/"))
    print(f"\ndesk keystrokes after the mailbox form's scan: {keys.count}")
    assert keys.count <= 3
    # The same form again: refused, with the registration it made.
    page.goto(app_server.url + "/r/desk/")
    expect(page.locator("#id_q")).to_be_focused()  # typing before focus drops keys
    page.keyboard.type(scanned)
    page.keyboard.press("Enter")
    expect(page.locator(".already")).to_contain_text("这张登记表已经用过")
