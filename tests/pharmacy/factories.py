"""Helpers to build more vouchers of the same pharmacy-day (tests/factories.py is shared)."""

from __future__ import annotations

from typing import Any

from fairshare.allocation.models import Voucher
from tests.factories import VoucherFactory


def sibling_voucher(voucher: Voucher, **kwargs: Any) -> Voucher:
    """Another household's voucher of the same committee, round, batch and day."""
    return VoucherFactory(
        registration__household__building__committee=voucher.committee,
        registration__round=voucher.round,
        declaration=kwargs.pop("declaration", voucher.declaration),
        **kwargs,
    )
