"""Which households hold a live voucher: asked by registration, answered by allocation.

Registration sits below allocation (the layers of lint-imports), yet two of its staff
actions must know about vouchers: a household holding a live voucher cannot be moved
to another address (``corrections.registration_move``), and the review queue flags a
registration whose household holds one. The allocation app answers the question (the
one definition of a live voucher is ``Voucher.LIVE_STATUSES``) by registering its
probe here when Django starts (``AllocationConfig.ready``), as the purge steps do.

With ``lock`` the probe first locks each round's row the way allocation does (its
``round_lock``), so an allocation of that round cannot issue a voucher between the check
and the caller's commit; a caller taking the (round, committee) queue counter must call
it before ``counter_lock`` (the lock order of ``core/locking.py``: round → counter).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class VoucherHold:
    """A live voucher of a household in a round: its status code and label."""

    status: str
    label: str


# (round id, household id) pairs → their live vouchers; ``lock`` as in the docstring.
Probe = Callable[[Collection[tuple[int, int]], bool], dict[tuple[int, int], VoucherHold]]
_probes: list[Probe] = []


def register_voucher_probe(probe: Probe) -> None:
    """Install the probe (the allocation app's; a second call replaces it)."""
    _probes[:] = [probe]


def live_voucher_holds(
    pairs: Collection[tuple[int, int]], *, lock: bool = False
) -> dict[tuple[int, int], VoucherHold]:
    """The live vouchers of these (round id, household id) pairs, by pair."""
    if not _probes:
        raise ImproperlyConfigured("no voucher probe registered (is the allocation app installed?)")
    if not pairs:
        return {}
    return _probes[0](pairs, lock)
