"""XLSX exports for staff: registrations, vouchers and the daily report, per area.

Codes, statuses, channels and fulfilment show as the models' labels in the user's
language (machines read the raw values from the API and the JSON exports).
Full names and phone numbers appear only for committee staff exporting their own
committee; every other export masks them (README.md, "Accounts, access and personal
data"; the scope rule is ``accounts/scoping.py``). Every row goes through
``core.spreadsheet.xlsx_append``, so no cell is ever a formula.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from fairshare.accounts.permissions import COMMITTEE, Viewer, has_access
from fairshare.allocation.models import Voucher
from fairshare.core.masking import mask_name, mask_phone
from fairshare.core.spreadsheet import xlsx_append
from fairshare.registration.models import Channel, Registration
from fairshare.rounds.models import Round
from fairshare.transparency.selectors import Area, stats_for

CHANNELS = dict(Channel.choices)


def shows_personal_data(user: Viewer, area: Area) -> bool:
    return (
        area.committee is not None
        and has_access(user)
        and user.role == COMMITTEE
        and user.committee_id == area.committee.pk
    )


def _book(title: str, header: list[str], rows: Any) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    xlsx_append(ws, header)
    for row in rows:
        xlsx_append(ws, row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _local(dt: Any) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M:%S") if dt else ""


def registrations_xlsx(*, round: Round, area: Area, user: Viewer) -> bytes:
    full = shows_personal_data(user, area)
    status_labels = dict(Registration.Status.choices)
    qs = (
        Registration.objects.filter(area.q(), round=round)
        .order_by("committee__code", "queue_number")
        .values_list(
            "committee__code",
            "queue_number",
            "name",
            "phone",
            "household__building__label",
            "household__room",
            "channel",
            "status",
            "acknowledged_at",
            "returned_recently",
        )
    )

    def rows():
        for code, qn, name, phone, building, room, channel, status, at, ret in qs.iterator(
            chunk_size=2000
        ):
            yield [
                code,
                qn,
                name if full else mask_name(name),
                phone if full else mask_phone(phone),
                building,
                room,
                str(CHANNELS.get(channel, channel)),
                str(status_labels.get(status, status)),
                _local(at),
                _("yes") if ret else "",
            ]

    header = [
        _("Committee"),
        _("Queue number"),
        _("Name"),
        _("Phone"),
        _("Building"),
        _("Room"),
        _("Channel"),
        _("Status"),
        _("Registered at"),
        _("Returned recently"),
    ]
    return _book(_("Registrations"), header, rows())


# (queryset field, column header) of the vouchers export, in column order.
_VOUCHER_COLUMNS = (
    ("date", gettext_lazy("Date")),
    ("committee__code", gettext_lazy("Committee")),
    ("registration__queue_number", gettext_lazy("Queue number")),
    ("registration__name", gettext_lazy("Name")),
    ("household__building__label", gettext_lazy("Building")),
    ("household__room", gettext_lazy("Room")),
    ("pharmacy__code", gettext_lazy("Pharmacy")),
    ("code", gettext_lazy("Voucher code")),
    ("status", gettext_lazy("Status")),
    ("fulfilment", gettext_lazy("Fulfilment")),
    ("declaration__manufacturer", gettext_lazy("Manufacturer")),
    ("declaration__style", gettext_lazy("Style")),
    ("declaration__unit_price", gettext_lazy("Price per pack")),
    ("redeemed_at", gettext_lazy("Bought at")),
)


FULFILMENTS = dict(Voucher.Fulfilment.choices)


def _voucher_row(row: dict[str, Any], *, full: bool, status_labels: dict[str, Any]) -> list:
    name, code, status = row["registration__name"], row["code"], row["status"]
    return [
        row["date"].isoformat(),
        row["committee__code"],
        row["registration__queue_number"],
        name if full else mask_name(name),
        row["household__building__label"],
        row["household__room"],
        row["pharmacy__code"],
        code if full else code[:2] + "****",
        str(status_labels.get(status, status)),
        str(FULFILMENTS.get(row["fulfilment"], row["fulfilment"])),
        row["declaration__manufacturer"],
        row["declaration__style"],
        float(row["declaration__unit_price"]),
        _local(row["redeemed_at"]),
    ]


def vouchers_xlsx(*, round: Round, area: Area, user: Viewer) -> bytes:
    full = shows_personal_data(user, area)
    status_labels = dict(Voucher.Status.choices)
    qs = (
        Voucher.objects.filter(area.q(), round=round)
        .order_by("date", "committee__code", "registration__queue_number")
        .values(*(field for field, _header in _VOUCHER_COLUMNS))
    )
    rows = (
        _voucher_row(row, full=full, status_labels=status_labels)
        for row in qs.iterator(chunk_size=2000)
    )
    return _book(_("Vouchers"), [str(header) for _field, header in _VOUCHER_COLUMNS], rows)


def daily_xlsx(*, round: Round, area: Area, user: Viewer) -> bytes:
    stats = stats_for(
        round=round,
        subdistrict=area.subdistrict if area.level == "subdistrict" else None,
        committee=area.committee,
        include_staff=True,
    )
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")
    xlsx_append(ws, [_("Area"), area.name])
    for key, label in (
        ("households", _("Households")),
        ("registered", _("Registered")),
        ("registered_pct", _("Registered %")),
        ("vouchers_issued", _("Vouchers issued")),
        ("redeemed", _("Redeemed")),
        ("served_pct", _("Served %")),
        ("returnees", _("Returned from outside the city")),
    ):
        xlsx_append(ws, [label, stats[key]])
    days = wb.create_sheet(_("By day"))
    xlsx_append(
        days, [_("Date"), _("Registered"), _("Supply"), _("Vouchers issued"), _("Redeemed")]
    )
    for d in stats["by_day"]:
        xlsx_append(
            days, [d["date"].isoformat(), d["registered"], d["supply"], d["issued"], d["redeemed"]]
        )
    ph = wb.create_sheet(_("By pharmacy"))
    xlsx_append(
        ph, [_("Pharmacy"), _("Pharmacy name"), _("Supply"), _("Vouchers issued"), _("Redeemed")]
    )
    for p in stats["by_pharmacy"]:
        xlsx_append(ph, [p["pharmacy"], p["name"], p["supply"], p["issued"], p["redeemed"]])
    ch = wb.create_sheet(_("By channel"))
    xlsx_append(ch, [_("Channel"), _("Registered")])
    for c in stats["by_channel"]:
        xlsx_append(ch, [c["label"], c["registered"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


EXPORTS: dict[str, Callable[..., bytes]] = {
    "registrations": registrations_xlsx,
    "vouchers": vouchers_xlsx,
    "daily": daily_xlsx,
}
