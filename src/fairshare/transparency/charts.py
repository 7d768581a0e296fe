"""Server-rendered SVG charts (no JavaScript). Colours come from CSS classes."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH = 640
BAR_H = 22
LABEL_W = 150


def _svg(height: int, body: list[str], title: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def bar_chart(rows: list[tuple[str, int]], title: str = "") -> SafeString:
    """Horizontal bars with the value printed next to each bar."""
    top = max((v for _label, v in rows), default=0) or 1
    span = WIDTH - LABEL_W - 70
    body = []
    for i, (label, value) in enumerate(rows):
        y = i * (BAR_H + 6) + 4
        w = round(span * value / top)
        body.append(
            f'<text class="chart-label" x="{LABEL_W - 6}" y="{y + 16}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar bar-a" x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H}"/>'
            f'<text class="chart-value" x="{LABEL_W + w + 4}" y="{y + 16}">{value}</text>'
        )
    return _svg(len(rows) * (BAR_H + 6) + 8, body, title or _("Registrations by channel"))


def pair_chart(rows: list[tuple[str, int, int]], title: str = "") -> SafeString:
    """Two bars per row: supply (a) and redeemed (b)."""
    top = max((max(a, b) for _label, a, b in rows), default=0) or 1
    span = WIDTH - LABEL_W - 70
    h = BAR_H // 2 + 2
    body = []
    for i, (label, a, b) in enumerate(rows):
        y = i * (2 * h + 10) + 4
        wa, wb = round(span * a / top), round(span * b / top)
        body.append(
            f'<text class="chart-label" x="{LABEL_W - 6}" y="{y + h + 4}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar bar-a" x="{LABEL_W}" y="{y}" width="{wa}" height="{h}"/>'
            f'<text class="chart-value" x="{LABEL_W + wa + 4}" y="{y + h - 2}">{a}</text>'
            f'<rect class="bar bar-b" x="{LABEL_W}" y="{y + h}" width="{wb}" height="{h}"/>'
            f'<text class="chart-value" x="{LABEL_W + wb + 4}" y="{y + 2 * h - 2}">{b}</text>'
        )
    return _svg(
        len(rows) * (2 * h + 10) + 8,
        body,
        title or _("Supply (upper bar) and redeemed (lower bar)"),
    )


def day_chart(days: list[dict[str, Any]], title: str = "") -> SafeString:
    """Grouped columns per day: registered, vouchers issued, redeemed."""
    height, base, left = 220, 190, 40
    keys = ("registered", "issued", "redeemed")
    top = max((d[k] for d in days for k in keys), default=0) or 1
    n = max(len(days), 1)
    slot = (WIDTH - left - 10) / n
    bw = max(min(slot / 4, 24), 2)
    body = [f'<line class="axis" x1="{left}" y1="{base}" x2="{WIDTH - 5}" y2="{base}"/>']
    body.append(f'<text class="chart-value" x="2" y="14">{top}</text>')
    for i, d in enumerate(days):
        x0 = left + i * slot + (slot - 3 * bw) / 2
        for j, k in enumerate(keys):
            hgt = round((base - 20) * d[k] / top)
            body.append(
                f'<rect class="bar bar-{"abc"[j]}" x="{x0 + j * bw:.1f}" y="{base - hgt}" '
                f'width="{bw:.1f}" height="{hgt}"><title>{d["date"]:%m-%d} {d[k]}</title></rect>'
            )
        body.append(
            f'<text class="chart-label" x="{x0 + 1.5 * bw:.1f}" y="{base + 16}" '
            f'text-anchor="middle">{d["date"]:%m-%d}</text>'
        )
    return _svg(height, body, title or _("By day: registered, vouchers issued, redeemed"))
