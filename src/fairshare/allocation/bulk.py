"""What an allocation run reports per voucher (``IssuedVoucher``).

The rows themselves are written set-based by ``setbased.insert_vouchers``; an
``IssuedVoucher`` list is built only when a caller asks for it (the API answer, a
dry-run preview).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import time


@dataclass(slots=True)
class IssuedVoucher:
    """A voucher as issued by a run (what the API answer and the SMS need)."""

    registration_id: int
    household_id: int
    committee_id: int
    committee_code: str
    queue_number: int
    phone: str
    date: Date
    valid_until: Date
    packs: int
    fulfilment: str
    slot_start: time | None = None
    slot_end: time | None = None
    code: str = ""
