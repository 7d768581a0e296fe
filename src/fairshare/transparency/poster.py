"""A4 poster (PDF) of a committee's board: head hash, date, QR code, masked list."""

from __future__ import annotations

import io
from typing import Any

import segno
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from fairshare.community.models import Committee
from fairshare.rounds.models import Round
from fairshare.transparency.board import Board
from fairshare.transparency.policy import policy_statement
from fairshare.transparency.poster_key import ledger_key_draw

FONT = "STSong-Light"
STATUS_ZH = {
    "waiting": "待购",
    "held": "待审核",
    "voucher_issued": "已发券",
    "bought": "已购",
    "dropped": "过期失位",
    "void": "作废",
}
# Every text of the printed list at least 12 pt (issue 15: elderly residents read it on
# the notice board): two columns of entries, lines 6 mm apart.
TEXT_PT = 12
COLUMNS = 2
LINE_H = 6 * mm
FOOT = 6 * mm  # the page number and the ledger key under the list


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw a QR code as filled squares (vector, prints sharply)."""
    qr = segno.make(data, error="m")
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix)
    quiet = 2
    cell = size / (n + 2 * quiet)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for col, dark in enumerate(row):
            if dark:
                c.rect(
                    x + (col + quiet) * cell,
                    y + size - (r + quiet + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def entry_line(e: dict[str, Any]) -> str:
    return f"{e['queue_number']:>4} {e['name']} {e['building']}{e['room']} {STATUS_ZH[e['status']]}"


def _first_page_head(
    c: Canvas,
    font: str,
    top: float,
    *,
    round: Round,
    committee: Committee,
    board: Board,
    board_url: str,
    count: int,
) -> float:
    """Title, date, head hash and QR code of page 1; returns where the list starts."""
    margin, width = 14 * mm, A4[0]
    today = timezone.localdate().isoformat()
    c.setFont(font, 18)
    title = _("%(committee)s: posted list of registrations") % {"committee": committee.name}
    c.drawString(margin, top - 8 * mm, title)
    c.setFont(font, TEXT_PT)
    posted = _("%(round)s    posted on %(date)s") % {"round": round.name, "date": today}
    c.drawString(margin, top - 15 * mm, posted)
    counted = _("%(count)s households   head hash of the list:") % {"count": count}
    c.drawString(margin, top - 21 * mm, counted)
    how = _(
        "Scan to see the list online and download its export; "
        "`fairshare verify_ledger` checks it offline."
    )
    qr_x = width - margin - 36 * mm
    y = top - 27 * mm
    for part in _wrap(how, font, TEXT_PT, qr_x - margin - 3 * mm):
        c.drawString(margin, y, part)
        y -= LINE_H
    c.drawString(margin, y, board_url)
    _draw_qr(c, board_url, qr_x, top - 38 * mm, 36 * mm)
    y = min(y - LINE_H, top - 43 * mm)  # the hash runs the full width, under the QR code
    c.setFont("Courier", TEXT_PT)
    c.drawString(margin, y, board.head_hash)
    return y - 8 * mm


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Split a text into lines no wider than ``width`` (character by character: Chinese
    has no spaces to break at)."""
    lines, line = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, font, size) > width and line:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def _draw_policy(c: Canvas, font: str, top: float, *, round: Round) -> float:
    """The round's policy statement (``policy.policy_statement``) under the head of page 1;
    returns where the list starts."""
    margin, width = 14 * mm, A4[0] - 28 * mm
    size, step = TEXT_PT, LINE_H
    policy = policy_statement(round=round)
    c.setFont(font, TEXT_PT)
    c.drawString(margin, top, _("How the order is decided") + f": {policy['policy_label']}")
    y = top - 5 * mm
    c.setFont(font, size)
    for line in policy["lines"]:
        for part in _wrap(f"{line['label']}: {line['text']}", font, size, width):
            c.drawString(margin, y, part)
            y -= step
    return y - 2 * mm


def _next_page_head(
    c: Canvas,
    font: str,
    top: float,
    *,
    round: Round,
    committee: Committee,
    board: Board,
    page: int,
) -> float:
    c.setFont(font, TEXT_PT)
    head = _("%(committee)s %(round)s page %(page)s %(hash)s…") % {
        "committee": committee.name,
        "round": round.name,
        "page": page,
        "hash": board.head_hash[:16],
    }
    c.drawString(14 * mm, top - 4 * mm, head)
    return top - 10 * mm


def board_poster_pdf(*, round: Round, committee: Committee, board: Board, board_url: str) -> bytes:
    font = _font()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(f"{committee.name} {round.name}")
    width, height = A4
    margin = 14 * mm
    entries = list(board.entries)
    col_w = (width - 2 * margin) / COLUMNS
    page = 0
    i = 0
    while True:
        page += 1
        top = height - margin
        if page == 1:
            y_start = _first_page_head(
                c,
                font,
                top,
                round=round,
                committee=committee,
                board=board,
                board_url=board_url,
                count=len(entries),
            )
            y_start = _draw_policy(c, font, y_start, round=round)
        else:
            y_start = _next_page_head(
                c, font, top, round=round, committee=committee, board=board, page=page
            )
        rows = int((y_start - margin - FOOT) // LINE_H) + 1
        c.setFont(font, TEXT_PT)
        for col in range(COLUMNS):
            for r in range(rows):
                if i >= len(entries):
                    break
                c.drawString(margin + col * col_w, y_start - r * LINE_H, entry_line(entries[i]))
                i += 1
        c.setFont(font, TEXT_PT)
        c.drawRightString(width - margin, margin / 2, _("Page %(page)s") % {"page": page})
        ledger_key_draw(c, font, margin, margin / 2)
        c.showPage()
        if i >= len(entries):
            break
    c.save()
    return buf.getvalue()
