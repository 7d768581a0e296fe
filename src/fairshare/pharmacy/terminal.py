"""The scan terminal's answers as one full-screen verdict (issue 15).

A verdict has a kind (its colour and icon in pharmacy.css, the same kinds in scan.js),
a title and a detail line. The page form (no JS) and scan.js show the same panel.
Outside its time slot a voucher is sold only once the cashier confirms: a page rule
(the API's redeem contract is unchanged).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fairshare.allocation.models import Voucher
from fairshare.core.errors import ServiceError

# kind -> icon (the shape: colour is never the only cue)
ICONS = {"ok": "✓", "sold": "✓", "slot": "!", "used": "✕", "other": "⚠", "invalid": "✕"}


def verdict(kind: str, detail: str = "") -> dict[str, str]:
    titles = {
        "ok": _("Can be sold"),
        "sold": _("Sold"),
        "slot": _("Outside its time slot"),
        "used": _("Already used"),
        "other": _("Not this pharmacy's voucher"),
        "invalid": _("Not valid"),
    }
    return {"kind": kind, "title": titles[kind], "icon": ICONS[kind], "detail": detail}


def error_verdict(exc: ServiceError, text: str) -> dict[str, str]:
    if exc.status_code == 403:
        return verdict("other", text)
    if getattr(exc, "code", "") == "already_redeemed":
        return verdict("used", text)
    return verdict("invalid", text)


def slot_text(voucher: Voucher, *, now: datetime | None = None) -> str | None:
    """The slot as shown to the cashier when ``now`` is outside it, else None."""
    if voucher.slot_start is None or voucher.slot_end is None:
        return None
    local = timezone.localtime(now or timezone.now())
    on_day = local.date() == voucher.date
    if on_day and voucher.slot_start <= local.time().replace(tzinfo=None) <= voucher.slot_end:
        return None
    slot = f"{voucher.slot_start:%H:%M}–{voucher.slot_end:%H:%M}"
    return slot if on_day else f"{voucher.date.isoformat()} {slot}"


def outside_slot_verdict(slot: str) -> dict[str, str]:
    return verdict("slot", _("This voucher's time slot is %(slot)s.") % {"slot": slot})


def lookup_verdict(
    voucher: Voucher, detail: dict[str, Any], *, now: datetime | None = None
) -> dict[str, str]:
    """What a looked-up voucher of this pharmacy means at the counter now."""
    if voucher.status == Voucher.Status.REDEEMED:
        return verdict("used", detail["redeemed_note"] or "")
    today = timezone.localdate(now) if now else timezone.localdate()
    if voucher.status != Voucher.Status.ISSUED or not voucher.date <= today <= voucher.valid_until:
        return verdict("invalid", _("This voucher is not valid today."))
    slot = slot_text(voucher, now=now)
    if slot is not None:
        return outside_slot_verdict(slot)
    return verdict("ok", _("%(packs)d pack(s).") % {"packs": voucher.packs})
