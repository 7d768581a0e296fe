"""Printable voucher slips: A4 PDF, 5 slips per page (cut along the dashed lines).

Each slip shows the committee, the QR code (the signed voucher token, drawn from
segno's module matrix), the code for typing, date, pickup slot, pharmacy and
address, batch (manufacturer, style) and price; under the QR code, the household's own
link in the public chain (sequence number and hash, ``registration/links.py``) to find
in a later posting. Chinese text uses the built-in CID font STSong-Light, so no font
file is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from fairshare.allocation.models import Voucher
from fairshare.allocation.notify import voucher_token
from fairshare.allocation.tokens import code_display
from fairshare.community.models import Committee
from fairshare.registration.links import OwnLink, registered_links

FONT = "STSong-Light"
COLUMNS, ROWS = 1, 5
_registered: list[bool] = []


def _font() -> str:
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered.append(True)
    return FONT


def _qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    qr = segno.make(text, error="m")
    matrix = [list(row) for row in qr.matrix]
    cell = size / len(matrix)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * cell, y + size - (r + 1) * cell, cell, cell, 0, 1)


def _own_link(canvas: Canvas, link: OwnLink | None, x: float, y: float) -> None:
    """The registration's own link, in three short lines from ``y`` down."""
    if link is None:
        return
    canvas.setFont(_font(), 7)
    canvas.drawString(x, y, f"公示链第{link.seq}条")
    canvas.setFont("Courier", 6.5)
    canvas.drawString(x, y - 7.5, link.hash[:32])
    canvas.drawString(x, y - 14, link.hash[32:])


def _slip(
    canvas: Canvas,
    committee: Committee,
    v: Voucher,
    link: OwnLink | None,
    box: tuple[float, float, float, float],
) -> None:
    x, y, w, h = box
    font = _font()
    canvas.setDash(3, 3)
    canvas.rect(x, y, w, h)
    canvas.setDash()
    pad = 5 * mm
    qr_size = min(36 * mm, h - 2 * pad)
    _qr(canvas, voucher_token(v), x + w - pad - qr_size, y + h - pad - qr_size, qr_size)
    _own_link(canvas, link, x + w - pad - qr_size, y + h - pad - qr_size - 8)
    lines = [
        (13, f"{committee.name} 口罩购买凭证"),
        (12, f"凭证号 {code_display(v.code)}"),
        (10, f"日期 {v.date:%Y-%m-%d}  有效至 {v.valid_until:%Y-%m-%d}"),
        (
            10,
            f"时段 {v.slot_start:%H:%M}-{v.slot_end:%H:%M}"
            if v.slot_start and v.slot_end
            else "时段 营业时间内",
        ),
        (10, f"药店 {v.pharmacy.name}"),
        (9, f"地址 {v.pharmacy.address}"),
        (9, f"批次 {v.declaration.manufacturer} {v.declaration.style}"),
        (10, f"{v.packs}包  每包 {v.declaration.unit_price} 元"),
        (9, f"排队号 {v.registration.queue_number}  {v.household.building} {v.household.room}室"),
    ]
    if v.fulfilment != Voucher.Fulfilment.PICKUP:
        lines.append((9, "送货上门" if v.fulfilment == "delivery" else "居委会代购"))
    cursor = y + h - pad - 4 * mm
    room = w - 3 * pad - qr_size
    for size, text in lines:
        while text and pdfmetrics.stringWidth(text, font, size) > room:
            text = text[:-1]  # clip what does not fit next to the QR code
        canvas.setFont(font, size)
        canvas.drawString(x + pad, cursor, text)
        cursor -= size + 3.2


def slips_pdf(*, committee: Committee, vouchers: Sequence[Voucher]) -> bytes:
    """The slips of ``vouchers`` as one A4 PDF (an empty page says there are none)."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    canvas.setTitle(f"{committee.name} 购买凭证")
    page_w, page_h = A4
    margin = 10 * mm
    w = (page_w - 2 * margin) / COLUMNS
    h = (page_h - 2 * margin) / ROWS
    if not vouchers:
        canvas.setFont(_font(), 14)
        canvas.drawString(margin, page_h - 2 * margin, f"{committee.name}：该日没有购买凭证")
    per_page = COLUMNS * ROWS
    links = registered_links(v.registration_id for v in vouchers)
    for i, voucher in enumerate(vouchers):
        if i and i % per_page == 0:
            canvas.showPage()
        slot = i % per_page
        col, row = slot % COLUMNS, slot // COLUMNS
        box = (margin + col * w, page_h - margin - (row + 1) * h, w, h)
        _slip(canvas, committee, voucher, links.get(voucher.registration_id), box)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
