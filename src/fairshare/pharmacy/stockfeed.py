"""The open-data stock feed: per pharmacy and day, supply against vouchers (docs/open-data.md).

For each pharmacy and day (today for every pharmacy, and every later day with a
confirmed supply; or one day asked for):

* ``confirmed_packs``: the day's confirmed supply (``SupplyDay.packs``, the sum of its
  current declarations);
* ``voucher_packs``: packs of the day's live vouchers (issued, not yet bought, plus
  bought: ``Voucher.LIVE_STATUSES``) — promised to households;
* ``redeemed_packs``: packs of those already bought (offline sales once synced);
* ``set_aside_packs``: the committees' emergency stock of the day not yet delivered
  (``allocation.setaside.set_aside_unused``): kept out of allocation;
* ``unallocated_packs`` = confirmed − voucher packs − set-aside packs (never below 0):
  what the next allocation of that day can still give out. A redemption does not change it (the
  pack was already promised); issuing vouchers lowers it; an expired or cancelled
  voucher returns its packs (the engine's own count, ``allocation.engine._plan_read``);
* ``updated_at``: the latest change of these figures known to the service (a
  declaration, an issue, a sale, an expiry), local time, or null when the day has none.

Five queries whatever the number of pharmacies and vouchers (grouped aggregates).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Max, Q, Sum
from django.utils import timezone

from fairshare.allocation.models import SupplyDay, SupplyDeclaration, Voucher
from fairshare.allocation.setaside import set_aside_unused
from fairshare.community.models import Pharmacy

FIELDS = (
    "code",
    "name",
    "address",
    "phone",
    "opens_at",
    "closes_at",
    "date",
    "confirmed_packs",
    "voucher_packs",
    "redeemed_packs",
    "set_aside_packs",
    "unallocated_packs",
    "updated_at",
)


def _latest(*values: datetime | None) -> str | None:
    known = [v for v in values if v is not None]
    return timezone.localtime(max(known)).isoformat(timespec="seconds") if known else None


def stock_feed(*, day: date | None = None) -> list[dict[str, Any]]:
    """Rows of ``FIELDS`` ordered by date then pharmacy code (module docstring)."""
    today = timezone.localdate()
    days = SupplyDay.objects.filter(date=day) if day else SupplyDay.objects.filter(date__gte=today)
    supply = {(d.pharmacy_id, d.date): d for d in days.only("id", "pharmacy_id", "date", "packs")}
    set_aside = set_aside_unused(supply.values())
    figures: dict[int, dict[str, Any]] = {
        row["supply_day_id"]: dict(row)
        for row in Voucher.objects.filter(supply_day__in=days)
        .values("supply_day_id")
        .annotate(
            live=Sum("packs", filter=Q(status__in=Voucher.LIVE_STATUSES)),
            redeemed=Sum("packs", filter=Q(status=Voucher.Status.REDEEMED)),
            issued_at=Max("issued_at"),
            redeemed_at=Max("redeemed_at"),
            expired_at=Max("expired_at"),
        )
    }
    declared = dict(
        SupplyDeclaration.objects.filter(supply_day__in=days)
        .values("supply_day_id")
        .annotate(at=Max("declared_at"))
        .values_list("supply_day_id", "at")
    )
    pharmacies = list(Pharmacy.objects.order_by("code"))
    keys = {(p.pk, day or today) for p in pharmacies} | set(supply)
    by_id = {p.pk: p for p in pharmacies}
    rows = []
    for pharmacy_id, on in sorted(keys, key=lambda k: (k[1], by_id[k[0]].code)):
        p, sd = by_id[pharmacy_id], supply.get((pharmacy_id, on))
        f = figures.get(sd.pk, {}) if sd else {}
        confirmed, live = (sd.packs if sd else 0), f.get("live") or 0
        kept = set_aside.get(sd.pk, 0) if sd else 0
        rows.append(
            {
                "code": p.code,
                "name": p.name,
                "address": p.address,
                "phone": p.phone,
                "opens_at": p.opens_at.strftime("%H:%M"),
                "closes_at": p.closes_at.strftime("%H:%M"),
                "date": on.isoformat(),
                "confirmed_packs": confirmed,
                "voucher_packs": live,
                "redeemed_packs": f.get("redeemed") or 0,
                "set_aside_packs": kept,
                "unallocated_packs": max(confirmed - live - kept, 0),
                "updated_at": _latest(
                    declared.get(sd.pk) if sd else None,
                    f.get("issued_at"),
                    f.get("redeemed_at"),
                    f.get("expired_at"),
                ),
            }
        )
    return rows
