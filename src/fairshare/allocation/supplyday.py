"""The supply of a pharmacy-day: its checks and its lock, shared by every write of it.

A declaration or correction (``services.supply_declare``) and a shortfall
(``shortfall.supply_shortfall``) take the same permission check
(``supply_round_check``), the same packs and date rules (``day_packs_check``) and the
same row lock (``supply_day_locked``), the one the allocation engine takes, so the
three are serialized per pharmacy-day (``core/locking.py``, rule 2).
"""

from __future__ import annotations

from datetime import date as Date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import may_declare_supply
from fairshare.allocation import selectors
from fairshare.allocation.models import SupplyDay
from fairshare.community.models import Pharmacy
from fairshare.core.errors import FieldErrors, Forbidden
from fairshare.core.locking import lock_rows
from fairshare.rounds.models import Round

MAX_PACKS = 100_000


def day_packs_check(errors: FieldErrors, *, date: Any, packs: Any, round: Round | None) -> None:
    """Add the errors of a day's packs and date (declaration and shortfall alike)."""
    if isinstance(packs, bool) or not isinstance(packs, int):
        errors.add("packs", _("Enter a whole number of packs."))
    elif not 0 <= packs <= MAX_PACKS:
        errors.add("packs", _("Packs must be between 0 and 100000."))
    if not isinstance(date, Date):
        errors.add("date", _("Enter a valid date."))
    elif date < timezone.localdate():
        errors.add("date", _("The date must be today or later."))
    elif round is not None and not (round.valid_from <= date <= round.valid_until):
        errors.add("date", _("The date is outside the round's purchase dates."))


def supply_day_locked(*, pharmacy: Pharmacy, date: Date) -> SupplyDay:
    """The SupplyDay row, created if needed, then locked."""
    if not SupplyDay.objects.filter(pharmacy=pharmacy, date=date).exists():
        try:
            with transaction.atomic():
                SupplyDay.objects.create(pharmacy=pharmacy, date=date, packs=0)
        except IntegrityError:
            pass  # created meanwhile by a concurrent declaration
    return lock_rows(SupplyDay.objects.filter(pharmacy=pharmacy, date=date)).get()


def supply_round_check(*, actor: User | None, pharmacy: Pharmacy, date: Date) -> Round | None:
    """Who may change a pharmacy-day's supply (``supply_declare_as``), and its round."""
    if not may_declare_supply(actor, pharmacy):
        raise Forbidden(_("You may not declare supply for this pharmacy."))
    round_ = selectors.round_covering(pharmacy=pharmacy, date=date)
    if round_ is None and selectors.open_rounds_exist(pharmacy=pharmacy):
        raise FieldErrors({"date": [_("The date is outside the round's purchase dates.")]})
    return round_
