"""The printable lobby sheet of a building: A4 PDF, numbered lines (reportlab, CID font).

Header: committee, building, round and the sheet id (staff find the sheet by it when
they enter it). Columns: No., room, name, phone, time, signature.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from fairshare.registration.models import BuildingSheet

FONT = "STSong-Light"
COLUMNS = [("序号", 14), ("室号", 26), ("姓名", 34), ("手机", 42), ("时间", 26), ("签名", 38)]


def sheet_pdf(sheet: BuildingSheet) -> bytes:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    _width, height = A4
    x0, top = 15 * mm, height - 18 * mm
    canvas.setFont(FONT, 16)
    canvas.drawString(x0, top, f"{sheet.committee.name} {sheet.building} 口罩预约登记表")
    canvas.setFont(FONT, 10.5)
    canvas.drawString(x0, top - 7 * mm, f"{sheet.round.name} · 登记表编号 {sheet.code}")
    canvas.drawString(
        x0, top - 13 * mm, "请按先后顺序逐行填写；表上第1行即第一位登记成功，时间仅作记录。"
    )
    row_h = min(11 * mm, (top - 30 * mm) / (sheet.lines + 1))
    y = top - 20 * mm
    xs = [x0]
    for _label, w in COLUMNS:
        xs.append(xs[-1] + w * mm)
    for r in range(sheet.lines + 1):
        canvas.line(x0, y - r * row_h, xs[-1], y - r * row_h)
        if r == 0:
            for (label, _w), x in zip(COLUMNS, xs, strict=False):
                canvas.drawString(x + 2 * mm, y - row_h + 3.5 * mm, label)
        else:
            canvas.drawString(xs[0] + 2 * mm, y - (r + 1) * row_h + 3.5 * mm, str(r))
    bottom = y - (sheet.lines + 1) * row_h
    canvas.line(x0, bottom, xs[-1], bottom)
    for x in xs:
        canvas.line(x, y, x, bottom)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
