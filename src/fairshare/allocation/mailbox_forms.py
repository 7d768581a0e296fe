"""Pre-filled mailbox forms (issue 16, 江浦 五环): one A4 page per household of a
building, put into its mailbox the day before; the resident fills it in at home and
brings it to the desk, where its QR opens the household at once.

Each page: the committee and round, a stamp area, the address printed, blank name,
phone and returnee fields, and the QR of the household's signed form code
(``registration/mailbox.py``). Drawn with the voucher slips' machinery
(``allocation/slips.py``: the CID font and segno's module matrix).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from fairshare.allocation.slips import _font, _qr
from fairshare.community.models import Building, Household
from fairshare.registration.mailbox import mailbox_code_make
from fairshare.rounds.models import Round

QR_SIZE = 55 * mm


def _blank(canvas: Canvas, label: str, x: float, y: float, width: float) -> None:
    canvas.setFont(_font(), 14)
    canvas.drawString(x, y, label)
    canvas.line(x + 32 * mm, y - 1.5 * mm, x + width, y - 1.5 * mm)


def _form_page(canvas: Canvas, round_obj: Round, building: Building, home: Household) -> None:
    page_w, page_h = A4
    margin = 20 * mm
    committee = building.committee
    top = page_h - margin
    canvas.setFont(_font(), 20)
    canvas.drawString(margin, top - 8 * mm, f"{committee.name} 住户信息登记表")
    canvas.setFont(_font(), 13)
    canvas.drawString(margin, top - 17 * mm, f"{round_obj.name} · 口罩预约登记")
    # The committee's stamp area (top right).
    canvas.setDash(3, 3)
    canvas.rect(page_w - margin - 45 * mm, top - 45 * mm, 45 * mm, 45 * mm)
    canvas.setDash()
    canvas.setFont(_font(), 11)
    canvas.drawCentredString(page_w - margin - 22.5 * mm, top - 48 * mm, "居委会盖章处")
    canvas.setFont(_font(), 18)
    canvas.drawString(margin, top - 40 * mm, f"地址：{building} {home.room}室")
    width = page_w - 2 * margin - 55 * mm
    y = top - 70 * mm
    for label in ("姓名：", "电话：", "近14天是否从外地返回：□否  □是"):
        _blank(canvas, label, margin, y, width if "返回" not in label else margin)
        y -= 16 * mm
    _blank(canvas, "从何地返回：", margin, y, width)
    _blank(canvas, "返回日期：", margin, y - 16 * mm, width)
    code = mailbox_code_make(round_id=round_obj.pk, household_id=home.pk)
    qr_y = margin + 30 * mm
    _qr(canvas, code, page_w - margin - QR_SIZE, qr_y, QR_SIZE)
    canvas.setFont("Courier", 6.5)
    canvas.drawRightString(page_w - margin, qr_y - 4 * mm, code)
    canvas.setFont(_font(), 12)
    notes = (
        "填好后请带本表到居委会登记处，工作人员扫描二维码即可登记。",
        "本表仅限本户、本轮使用一次；请勿复印。没有手机也可以登记。",
        "登记不等于购买凭证：轮到您时居委会会通知您。",
    )
    for i, note in enumerate(notes):
        canvas.drawString(margin, margin + 18 * mm - i * 7 * mm, note)


def mailbox_forms_pdf(
    *, round_obj: Round, building: Building, households: Sequence[Household]
) -> bytes:
    """One A4 page per household of ``building`` (an empty page says there are none)."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    canvas.setTitle(f"{building.committee.name} {building} 住户信息登记表")
    if not households:
        canvas.setFont(_font(), 14)
        canvas.drawString(20 * mm, A4[1] - 30 * mm, f"{building}：没有住户")
        canvas.showPage()
    for home in households:
        _form_page(canvas, round_obj, building, home)
        canvas.showPage()
    canvas.save()
    return out.getvalue()
