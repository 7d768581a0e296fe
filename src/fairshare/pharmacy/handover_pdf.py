"""A pickup point's printable hand-over list (A4, Chinese), through the slip machinery's
font (``allocation/slips.py``): one line per bought pack with its queue number, address,
voucher code, and boxes for who collected it, scan or cash, and a signature."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from fairshare.allocation.slips import _font
from fairshare.allocation.tokens import code_display
from fairshare.community.models import Committee
from fairshare.pharmacy.models import PickupPoint

COLUMNS = (
    ("排队号", 0),
    ("地址", 16),
    ("凭证号", 56),
    ("包", 96),
    ("领取人", 106),
    ("扫码/现金", 138),
    ("签名", 163),
)
LINE = 8 * mm


def _header(canvas: Canvas, committee: Committee, point: PickupPoint, top: float) -> float:
    font, margin = _font(), 12 * mm
    start = timezone.localtime(point.starts_at)
    end = timezone.localtime(point.ends_at)
    canvas.setFont(font, 14)
    canvas.drawString(margin, top, f"{committee.name} 集中领取点 交接清单")
    canvas.setFont(font, 10)
    canvas.drawString(
        margin, top - 16, f"地点 {point.place}  时间 {start:%Y-%m-%d %H:%M}-{end:%H:%M}"
    )
    y = top - 34
    for title, x in COLUMNS:
        canvas.drawString(margin + x * mm, y, title)
    canvas.line(margin, y - 3, A4[0] - margin, y - 3)
    return y - LINE


def handover_list_pdf(
    *, committee: Committee, point: PickupPoint, rows: Sequence[dict[str, Any]]
) -> bytes:
    """The point's rows (``pickup.pickup_point_rows``) as an A4 PDF."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    canvas.setTitle(f"{committee.name} 交接清单")
    margin, top = 12 * mm, A4[1] - 15 * mm
    y = _header(canvas, committee, point, top)
    for row in rows:
        if y < 15 * mm:
            canvas.showPage()
            y = _header(canvas, committee, point, top)
        handover = row["handover"]
        cells = [
            str(row["queue_number"]),
            f"{row['building']} {row['room']}室",
            code_display(row["voucher"].code),
            str(row["packs"]),
            handover.recipient_name if handover else "",
            ("扫码" if handover.payment == "scan" else "现金") if handover else "□扫码 □现金",
            "",
        ]
        canvas.setFont(_font(), 9)
        for (_title, x), text in zip(COLUMNS, cells, strict=True):
            canvas.drawString(margin + x * mm, y, text)
        canvas.line(margin, y - 3, A4[0] - margin, y - 3)
        y -= LINE
    canvas.showPage()
    canvas.save()
    return out.getvalue()
