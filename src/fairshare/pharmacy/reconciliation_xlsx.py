"""The reconciliation workbook of one pharmacy-day (``selectors.reconciliation``).

Like the other staff exports (``transparency/exports.py``), every sheet name, column
header and enumerated value is a human label in the user's language: counts, who bought,
redemption channels and conflict reasons; machines read the raw values from the API.
Every row goes through ``core.spreadsheet.xlsx_append``, so no cell is ever a formula.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from fairshare.core.spreadsheet import xlsx_append
from fairshare.pharmacy.models import Channel

# (key in selectors.reconciliation's counts, label), in column order.
COUNT_COLUMNS = (
    ("issued", gettext_lazy("Issued")),
    ("redeemed", gettext_lazy("Bought")),
    ("outstanding", gettext_lazy("Outstanding")),
    ("expired", gettext_lazy("Expired")),
    ("cancelled", gettext_lazy("Cancelled")),
    ("conflicts", gettext_lazy("Conflicts")),
)
SALES = (
    ("counter", gettext_lazy("Sold at the pharmacy")),
    ("committee", gettext_lazy("Bought by committees (proxy purchases and pickup points)")),
    ("emergency", gettext_lazy("Emergency deliveries by committee staff")),
)
PICKUP_COLUMNS = (
    ("committee", gettext_lazy("Committee")),
    ("place", gettext_lazy("Place")),
    ("starts_at", gettext_lazy("From")),
    ("bought", gettext_lazy("Bought")),
    ("handed_over", gettext_lazy("Handed over")),
    ("scan", gettext_lazy("Scan")),
    ("cash", gettext_lazy("Cash")),
)
# Why an offline sale conflicts (``offline.py``); other codes show the stored detail.
REASONS = {
    "typed_code": gettext_lazy("typed code already bought"),
    "same_batch": gettext_lazy("same voucher twice in this batch"),
    "clock_ahead": gettext_lazy("terminal clock ahead"),
    "outside_offline_window": gettext_lazy("older than the offline window"),
    "before_issue": gettext_lazy("sold before the voucher was issued"),
    "cancelled": gettext_lazy("voucher cancelled"),
    "not_valid_at_sale": gettext_lazy("not valid at the time of sale"),
    "other_pharmacy": gettext_lazy("voucher of another pharmacy"),
}
CHANNELS = dict(Channel.choices)


def _naive(value: Any) -> Any:
    return value.replace(tzinfo=None) if value is not None else None


def _counts(row: dict[str, Any]) -> list[Any]:
    return [row[key] for key, _label in COUNT_COLUMNS]


def _count_headers() -> list[str]:
    return [str(label) for _key, label in COUNT_COLUMNS]


def _summary(book: Any, data: dict[str, Any]) -> None:
    sheet = book.active
    sheet.title = _("Day summary")
    pharmacy = data["pharmacy"]
    xlsx_append(sheet, [_("Pharmacy"), pharmacy.code, pharmacy.name])
    xlsx_append(sheet, [_("Date"), data["day"].isoformat()])
    xlsx_append(sheet, [_("Supply (packs)"), data["supply"]])
    for key, label in COUNT_COLUMNS:
        xlsx_append(sheet, [label, data["totals"][key]])


def _slots_and_batches(book: Any, data: dict[str, Any]) -> None:
    slots = book.create_sheet(_("By time slot"))
    xlsx_append(slots, [_("Time slot"), *_count_headers()])
    for row in data["by_slot"]:
        xlsx_append(slots, [row["slot"], *_counts(row)])
    batches = book.create_sheet(_("By batch"))
    xlsx_append(batches, [_("Batch"), _("Current batch"), _("Supply"), *_count_headers()])
    for row in data["by_batch"]:
        current = _("yes") if row["current"] else _("superseded")
        xlsx_append(batches, [row["batch"], current, row["supply"], *_counts(row)])


def _committee_sheets(book: Any, data: dict[str, Any]) -> None:
    """Pharmacy sales and committee hand-overs, apart."""
    sales = book.create_sheet(_("Who bought"))
    for key, label in SALES:
        xlsx_append(sales, [label, data["sales"][key]])
    points = book.create_sheet(_("Committee pickup points"))
    xlsx_append(points, [label for _key, label in PICKUP_COLUMNS])
    for row in data["pickup_points"]:
        row = dict(row, starts_at=_naive(row["starts_at"]))
        xlsx_append(points, [row[key] for key, _label in PICKUP_COLUMNS])


def _conflicts(book: Any, data: dict[str, Any]) -> None:
    sheet = book.create_sheet(_("Offline conflicts"))
    header = [_("Voucher"), _("Sold offline at"), _("First recorded at"), _("First sold via")]
    xlsx_append(sheet, [*header, _("Reason"), _("Terminal")])
    for row in data["conflicts"]:
        channel = row["first_channel"]
        reason = REASONS.get(row["reason"]) or row.get("detail") or row["reason"]
        xlsx_append(
            sheet,
            [
                row["code"],
                _naive(row["offline_at"]),
                _naive(row["first_at"]),
                CHANNELS.get(channel, channel),
                reason,
                row["terminal"],
            ],
        )


def reconciliation_book(data: dict[str, Any]) -> bytes:
    """The workbook's bytes: summary, by slot, by batch, who bought, hand-overs, conflicts."""
    book = Workbook()
    _summary(book, data)
    _slots_and_batches(book, data)
    _committee_sheets(book, data)
    _conflicts(book, data)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
