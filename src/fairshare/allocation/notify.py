"""Voucher notifications (SMS via the outbox) and the voucher QR code.

The SMS rows are exactly what ``core.sms.sms_enqueue`` writes (an ``sms`` outbox
message of kind "voucher" with ``household_id``); the allocation engine creates them in bulk with
``INSERT … SELECT`` from the new vouchers (``setbased.insert_sms``, variables built from
``sms_parts``) inside the allocation transaction, so they are sent by the outbox
worker only after the vouchers are committed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import segno
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from fairshare.allocation.models import SupplyDeclaration, Voucher
from fairshare.allocation.tokens import token_sign, voucher_claims
from fairshare.community.models import Pharmacy


def sms_parts(
    *, pharmacy: Pharmacy, declaration: SupplyDeclaration, on: date, until: date, packs: int
) -> dict[str, Any]:
    """The pieces of the voucher SMS (kind "voucher", core/sms.py) of one pharmacy-day.

    Residents' default language (settings.LANGUAGE_CODE) is the message's ``lang``.
    vars = ``fixed`` | {"code": code_display(code), "when": when}, where ``when`` is
    ``delivery``, or ``slot_before`` + "HH:MM-HH:MM" + ``slot_after``, or ``anytime``.
    The set-based allocation assembles them in SQL from these pieces
    (``setbased.insert_sms``); ``tests/allocation/reference.py`` states it in Python.
    """
    lang = settings.LANGUAGE_CODE
    with translation.override(lang):
        day = _day(on)
        slot = str(_("On %(day)s at %(slot)s") % {"day": day, "slot": "\x00"})
        before, after = slot.split("\x00")
        return {
            "lang": lang,
            "delivery": str(_("On %(day)s, delivered by the committee") % {"day": day}),
            "slot_before": before,
            "slot_after": after,
            "anytime": str(_("On %(day)s during opening hours") % {"day": day}),
            "fixed": {
                "pharmacy": pharmacy.name,
                "address": pharmacy.address,
                "product": f"{declaration.manufacturer} {declaration.style}",
                "packs": str(packs),
                "price": str(declaration.unit_price),
                "until": _day(until),
            },
        }


def _day(on: date) -> str:
    return str(_("%(month)s/%(day)s") % {"month": on.month, "day": on.day})


def day_text(on: date) -> str:
    """A day as the SMS write it (e.g. 3月5日), in the residents' default language."""
    with translation.override(settings.LANGUAGE_CODE):
        return _day(on)


def voucher_token(voucher: Voucher) -> str:
    return token_sign(voucher_claims(voucher))


def voucher_qr_svg(voucher: Voucher, *, scale: int = 4, **kwargs: Any) -> str:
    """An SVG QR code carrying the voucher's signed token (what the pharmacy scans)."""
    qr = segno.make(voucher_token(voucher), error="m")
    return qr.svg_inline(scale=scale, **kwargs)
