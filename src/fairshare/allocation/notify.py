"""Voucher notifications (SMS via the outbox) and the voucher QR code.

The SMS rows are exactly what ``core.sms.sms_enqueue`` writes (an ``sms`` outbox
message with ``household_id``); the allocation engine creates them in bulk with
``INSERT … SELECT`` from the new vouchers (``setbased.insert_sms``, text built from
``sms_parts``) inside the allocation transaction, so they are sent by the outbox
worker only after the vouchers are committed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import segno

from fairshare.allocation.models import SupplyDeclaration, Voucher
from fairshare.allocation.tokens import token_sign, voucher_claims
from fairshare.community.models import Pharmacy


def sms_parts(
    *, pharmacy: Pharmacy, declaration: SupplyDeclaration, on: date, until: date, packs: int
) -> dict[str, str]:
    """The fixed pieces of the voucher SMS of one pharmacy-day.

    text = head + code_display(code) + "。" + when + tail, where ``when`` is
    ``delivery``, or ``slot_before`` + "HH:MM-HH:MM" + ``slot_after``, or ``anytime``.
    The set-based allocation assembles the text in SQL from these pieces
    (``setbased.insert_sms``); ``tests/allocation/reference.py`` states it in Python.
    """
    day = f"{on.month}月{on.day}日"
    place = f"到{pharmacy.name}（{pharmacy.address}）购买"
    return {
        "head": "【公平配】您的口罩购买凭证号",
        "delivery": f"{day}由居委会送货上门",
        "slot_before": f"请于{day} ",
        "slot_after": place,
        "anytime": f"请于{day}营业时间内{place}",
        "tail": (
            f"，{declaration.manufacturer} {declaration.style}，{packs}包，"
            f"每包{declaration.unit_price}元。凭证有效至{until.month}月{until.day}日，请勿转让。"
        ),
    }


def voucher_token(voucher: Voucher) -> str:
    return token_sign(voucher_claims(voucher))


def voucher_qr_svg(voucher: Voucher, *, scale: int = 4, **kwargs: Any) -> str:
    """An SVG QR code carrying the voucher's signed token (what the pharmacy scans)."""
    qr = segno.make(voucher_token(voucher), error="m")
    return qr.svg_inline(scale=scale, **kwargs)
