"""XLSX exports for staff: registrations, vouchers and the daily report, per area.

Full names and phone numbers appear only for committee staff exporting their own
committee; every other export masks them (README.md, "Accounts, access and personal
data"; the scope rule is ``accounts/scoping.py``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from fairshare.allocation.models import Voucher
from fairshare.core.masking import mask_name, mask_phone
from fairshare.registration.models import Channel, Registration
from fairshare.transparency.selectors import Area, stats_for

CHANNELS = dict(Channel.choices)


def shows_personal_data(user: Any, area: Area) -> bool:
    return (
        area.committee is not None
        and getattr(user, "role", "") == "committee"
        and user.committee_id == area.committee.pk
    )


def _book(title: str, header: list[str], rows: Any) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _local(dt: Any) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M:%S") if dt else ""


def registrations_xlsx(*, round: Any, area: Area, user: Any) -> bytes:
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


def vouchers_xlsx(*, round: Any, area: Area, user: Any) -> bytes:
    full = shows_personal_data(user, area)
    status_labels = dict(Voucher.Status.choices)
    qs = (
        Voucher.objects.filter(area.q(), round=round)
        .order_by("date", "committee__code", "registration__queue_number")
        .values_list(
            "date",
            "committee__code",
            "registration__queue_number",
            "registration__name",
            "household__building__label",
            "household__room",
            "pharmacy__code",
            "code",
            "status",
            "fulfilment",
            "declaration__manufacturer",
            "declaration__style",
            "declaration__unit_price",
            "redeemed_at",
        )
    )

    def rows():
        for r in qs.iterator(chunk_size=2000):
            (
                day,
                code,
                qn,
                name,
                building,
                room,
                ph,
                vcode,
                status,
                ful,
                manu,
                style,
                price,
                red,
            ) = r
            yield [
                day.isoformat(),
                code,
                qn,
                name if full else mask_name(name),
                building,
                room,
                ph,
                vcode if full else vcode[:2] + "****",
                str(status_labels.get(status, status)),
                ful,
                manu,
                style,
                float(price),
                _local(red),
            ]

    header = [
        _("Date"),
        _("Committee"),
        _("Queue number"),
        _("Name"),
        _("Building"),
        _("Room"),
        _("Pharmacy"),
        _("Voucher code"),
        _("Status"),
        _("Fulfilment"),
        _("Manufacturer"),
        _("Style"),
        _("Price per pack"),
        _("Bought at"),
    ]
    return _book(_("Vouchers"), header, rows())


def daily_xlsx(*, round: Any, area: Area, user: Any) -> bytes:
    stats = stats_for(
        round=round,
        subdistrict=area.subdistrict if area.level == "subdistrict" else None,
        committee=area.committee,
        include_staff=True,
    )
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")
    ws.append([_("Area"), area.name])
    for key, label in (
        ("households", _("Households")),
        ("registered", _("Registered")),
        ("registered_pct", _("Registered %")),
        ("vouchers_issued", _("Vouchers issued")),
        ("redeemed", _("Redeemed")),
        ("served_pct", _("Served %")),
        ("returnees", _("Returned from outside the city")),
    ):
        ws.append([label, stats[key]])
    days = wb.create_sheet(_("By day"))
    days.append([_("Date"), _("Registered"), _("Supply"), _("Vouchers issued"), _("Redeemed")])
    for d in stats["by_day"]:
        days.append(
            [d["date"].isoformat(), d["registered"], d["supply"], d["issued"], d["redeemed"]]
        )
    ph = wb.create_sheet(_("By pharmacy"))
    ph.append([_("Pharmacy"), _("Name"), _("Supply"), _("Vouchers issued"), _("Redeemed")])
    for p in stats["by_pharmacy"]:
        ph.append([p["pharmacy"], p["name"], p["supply"], p["issued"], p["redeemed"]])
    ch = wb.create_sheet(_("By channel"))
    ch.append([_("Channel"), _("Registered")])
    for c in stats["by_channel"]:
        ch.append([c["label"], c["registered"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


EXPORTS: dict[str, Callable[..., bytes]] = {
    "registrations": registrations_xlsx,
    "vouchers": vouchers_xlsx,
    "daily": daily_xlsx,
}
