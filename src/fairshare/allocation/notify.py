"""Voucher notifications (SMS via the outbox) and the voucher QR code.

The SMS rows are exactly what ``core.sms.sms_enqueue`` writes (an ``sms`` outbox
message with ``household_id``), created in bulk inside the allocation transaction,
so they are sent by the outbox worker only after the vouchers are committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno

from fairshare.allocation.bulk import IssuedVoucher, insert_rows
from fairshare.allocation.models import SupplyDeclaration, Voucher
from fairshare.allocation.tokens import code_display, token_sign, voucher_claims
from fairshare.community.models import Pharmacy
from fairshare.core.models import OutboxMessage


def voucher_sms_text(
    voucher: Voucher | IssuedVoucher, *, pharmacy: Pharmacy, declaration: SupplyDeclaration
) -> str:
    """The Chinese SMS for one voucher (pharmacy, date, slot, batch, price, code)."""
    day = f"{voucher.date.month}月{voucher.date.day}日"
    if voucher.fulfilment == Voucher.Fulfilment.DELIVERY:
        when = f"{day}由居委会送货上门"
    elif voucher.slot_start is not None and voucher.slot_end is not None:
        when = (
            f"请于{day} {voucher.slot_start:%H:%M}-{voucher.slot_end:%H:%M}"
            f"到{pharmacy.name}（{pharmacy.address}）购买"
        )
    else:
        when = f"请于{day}营业时间内到{pharmacy.name}（{pharmacy.address}）购买"
    until = f"{voucher.valid_until.month}月{voucher.valid_until.day}日"
    return (
        f"【公平配】您的口罩购买凭证号{code_display(voucher.code)}。{when}，"
        f"{declaration.manufacturer} {declaration.style}，{voucher.packs}包，"
        f"每包{declaration.unit_price}元。凭证有效至{until}，请勿转让。"
    )


def voucher_sms_rows(
    vouchers: list[IssuedVoucher],
    *,
    pharmacy: Pharmacy,
    declaration: SupplyDeclaration,
    now: datetime,
) -> None:
    """Enqueue one SMS per issued voucher, set-based (the rows ``sms_enqueue`` writes)."""
    rows = [
        (
            {
                "phone": v.phone,
                "text": voucher_sms_text(v, pharmacy=pharmacy, declaration=declaration),
            },
            v.household_id,
        )
        for v in vouchers
    ]
    insert_rows(
        OutboxMessage,
        columns=("payload", "household_id"),
        rows=rows,
        constants={"kind": "sms", "available_at": now, "created_at": now},
    )


def voucher_token(voucher: Voucher) -> str:
    return token_sign(voucher_claims(voucher))


def voucher_qr_svg(voucher: Voucher, *, scale: int = 4, **kwargs: Any) -> str:
    """An SVG QR code carrying the voucher's signed token (what the pharmacy scans)."""
    qr = segno.make(voucher_token(voucher), error="m")
    return qr.svg_inline(scale=scale, **kwargs)
