"""Reads for the pharmacy terminal, reconciliation, the public stock feed and fulfilment."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fairshare.accounts.permissions import (
    AREA_ROLES,
    PHARMACY,
    Viewer,
    has_role,
    is_pharmacy_staff,
)
from fairshare.accounts.scoping import pharmacy_scope_q, scope_q
from fairshare.allocation.models import SupplyDay, SupplyDeclaration, Voucher
from fairshare.allocation.tokens import code_display
from fairshare.community.models import Pharmacy
from fairshare.core.errors import Forbidden
from fairshare.core.masking import mask_name
from fairshare.pharmacy.models import (
    Channel,
    Handover,
    PickupPoint,
    Redemption,
    RedemptionConflict,
)


def user_pharmacy(user: Viewer) -> Pharmacy:
    """The pharmacy a terminal user works for, or 403."""
    pharmacy = user.pharmacy if is_pharmacy_staff(user) and user.pharmacy_id else None
    if pharmacy is None:
        message = _("Only pharmacy staff can use the pharmacy terminal.")
        raise Forbidden(message, code="not_pharmacy")
    return pharmacy


def reconciliation_pharmacies(user: Viewer) -> QuerySet[Pharmacy]:
    """Pharmacies whose reconciliation the user may read: their own (pharmacy staff) or
    those of their subdistrict / district. Not committee staff (nor helpers): a
    pharmacy-day lists the voucher codes of every committee the pharmacy serves."""
    if not has_role(user, PHARMACY, *AREA_ROLES):
        return Pharmacy.objects.none()
    return Pharmacy.objects.filter(pharmacy_scope_q(user)).distinct()


def voucher_visible_to(user: Viewer, voucher: Voucher) -> bool:
    q = scope_q(user, "committee", pharmacy_path="pharmacy")
    return Voucher.objects.filter(q, pk=voucher.pk).exists()


def _redeemed_note(voucher: Voucher) -> str:
    """For a terminal that looks up a bought voucher: when and where (do not sell again)."""
    if voucher.status != Voucher.Status.REDEEMED or voucher.redeemed_at is None:
        return ""
    when = timezone.localtime(voucher.redeemed_at)
    return _("Already bought on %(when)s at %(where)s.") % {
        "when": f"{when:%Y-%m-%d %H:%M}",
        "where": voucher.pharmacy.name,
    }


def voucher_detail(voucher: Voucher, *, redemption: Redemption | None = None) -> dict[str, Any]:
    """What the terminal shows: packs, slot, batch and price, masked household, status.
    ``redemption``: the voucher's, when the caller has it (saves a read)."""
    batch = voucher.declaration
    if redemption is None:
        redemption = Redemption.objects.filter(voucher=voucher).first()
    registration = voucher.registration
    return {
        "code": voucher.code,
        "code_display": code_display(voucher.code),
        "status": voucher.status,
        "status_label": str(voucher.get_status_display()),
        "redeemed_note": _redeemed_note(voucher),
        "pharmacy": voucher.pharmacy.code,
        "committee": voucher.committee.name,
        "household": mask_name(registration.name) if registration else "",
        "packs": voucher.packs,
        "date": voucher.date.isoformat(),
        "valid_until": voucher.valid_until.isoformat(),
        "slot_start": voucher.slot_start.strftime("%H:%M") if voucher.slot_start else None,
        "slot_end": voucher.slot_end.strftime("%H:%M") if voucher.slot_end else None,
        "batch": {
            "manufacturer": batch.manufacturer,
            "style": batch.style,
            "unit_price": str(batch.unit_price),
        },
        "price": str(batch.unit_price * voucher.packs),
        "fulfilment": voucher.fulfilment,
        "redeemed_at": voucher.redeemed_at.isoformat() if voucher.redeemed_at else None,
        "channel": redemption.channel if redemption else None,
    }


def _current_batches(supply_day: SupplyDay | None) -> list[SupplyDeclaration]:
    if supply_day is None:
        return []
    return list(supply_day.declarations.filter(superseded_by__isnull=True).order_by("declared_at"))


def pharmacy_day(*, pharmacy: Pharmacy, day: date) -> dict[str, Any]:
    """Today's supply, batches and vouchers grouped by time slot (terminal home page)."""
    supply_day = SupplyDay.objects.filter(pharmacy=pharmacy, date=day).first()
    vouchers = (
        Voucher.objects.filter(pharmacy=pharmacy, date=day)
        .select_related("registration", "declaration")
        .order_by("slot_start", "code")
    )
    slots: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for voucher in vouchers:
        key = (
            f"{voucher.slot_start:%H:%M}–{voucher.slot_end:%H:%M}"
            if voucher.slot_start and voucher.slot_end
            else "—"
        )
        slots.setdefault(key, []).append(
            {
                "code": code_display(voucher.code),
                "household": mask_name(voucher.registration.name),
                "packs": voucher.packs,
                "status": voucher.status,
                "status_label": voucher.get_status_display(),
            }
        )
    return {
        "day": day,
        "supply": supply_day.packs if supply_day else 0,
        "batches": _current_batches(supply_day),
        "slots": slots,
    }


def _counts(queryset: QuerySet[Voucher]) -> dict[str, int]:
    agg = queryset.aggregate(
        issued=Count("id", filter=~Q(status=Voucher.Status.CANCELLED)),
        redeemed=Count("id", filter=Q(status=Voucher.Status.REDEEMED)),
        outstanding=Count("id", filter=Q(status=Voucher.Status.ISSUED)),
        expired=Count("id", filter=Q(status=Voucher.Status.EXPIRED)),
        cancelled=Count("id", filter=Q(status=Voucher.Status.CANCELLED)),
        redeemed_packs=Sum("packs", filter=Q(status=Voucher.Status.REDEEMED)),
    )
    return {key: value or 0 for key, value in agg.items()}


def _conflict_rows(conflicts: QuerySet[RedemptionConflict]) -> list[dict[str, Any]]:
    return [
        {
            "code": code_display(c.voucher.code),
            "offline_at": timezone.localtime(c.offline_redeemed_at),
            "first_at": timezone.localtime(c.first_redemption.redeemed_at)
            if c.first_redemption
            else None,
            "first_channel": c.first_redemption.channel if c.first_redemption else "",
            "reason": c.item.reason,
            "detail": c.item.detail,
            "terminal": c.item.terminal_id,
        }
        for c in conflicts.select_related("voucher", "first_redemption", "item")
    ]


def reconciliation(*, pharmacy: Pharmacy, day: date) -> dict[str, Any]:
    """Supply, issued, redeemed, outstanding, expired and conflicts of one pharmacy-day,
    in total, by time slot and by batch. Vouchers count on the day they were issued for."""
    supply_day = SupplyDay.objects.filter(pharmacy=pharmacy, date=day).first()
    vouchers = Voucher.objects.filter(pharmacy=pharmacy, date=day)
    conflicts = RedemptionConflict.objects.filter(pharmacy=pharmacy, voucher__date=day)
    by_slot = []
    slot_rows = vouchers.values("slot_start", "slot_end").distinct().order_by("slot_start")
    for slot in slot_rows:
        subset = vouchers.filter(slot_start=slot["slot_start"], slot_end=slot["slot_end"])
        label = (
            f"{slot['slot_start']:%H:%M}–{slot['slot_end']:%H:%M}" if slot["slot_start"] else "—"
        )
        by_slot.append(
            {
                "slot": label,
                **_counts(subset),
                "conflicts": conflicts.filter(
                    voucher__slot_start=slot["slot_start"], voucher__slot_end=slot["slot_end"]
                ).count(),
            }
        )
    by_batch = []
    declarations = SupplyDeclaration.objects.filter(supply_day=supply_day).order_by("declared_at")
    for batch in declarations if supply_day else []:
        subset = vouchers.filter(declaration=batch)
        by_batch.append(
            {
                "batch": f"{batch.manufacturer} {batch.style} ¥{batch.unit_price}",
                "current": batch.superseded_by_id is None,
                "supply": batch.packs if batch.superseded_by_id is None else 0,
                **_counts(subset),
                "conflicts": conflicts.filter(voucher__declaration=batch).count(),
            }
        )
    conflict_rows = _conflict_rows(conflicts)
    return {
        "pharmacy": pharmacy,
        "day": day,
        "supply": supply_day.packs if supply_day else 0,
        "totals": {**_counts(vouchers), "conflicts": len(conflict_rows)},
        "by_slot": by_slot,
        "by_batch": by_batch,
        "conflicts": conflict_rows,
        # Pharmacy sales and committee hand-overs apart (pickup points, ``pickup.py``).
        "sales": _sales(vouchers),
        "pickup_points": committee_handovers(pharmacy_id=pharmacy.pk, day=day),
    }


def _sales(vouchers: QuerySet[Voucher]) -> dict[str, int]:
    """The day's bought vouchers by who bought them: at the counter, a committee (proxy
    purchases and pickup points), or emergency deliveries (``allocation/emergency.py``)."""
    agg = vouchers.filter(status=Voucher.Status.REDEEMED).aggregate(
        committee=Count("id", filter=Q(redemption__channel=Channel.PROXY)),
        counter=Count("id", filter=Q(redemption__channel__in=[Channel.ONLINE, Channel.OFFLINE])),
        emergency=Count("id", filter=Q(redemption__isnull=True)),  # staff delivered
    )
    return {key: value or 0 for key, value in agg.items()}


def committee_handovers(*, pharmacy_id: int, day: object) -> list[dict[str, object]]:
    """Per pickup point of the pharmacy's committees bought that day: bought, handed over,
    of them paid by scan and by cash (the reconciliation's committee section)."""
    points = (
        PickupPoint.objects.filter(batch__pharmacy_id=pharmacy_id, starts_at__date=day)
        .select_related("committee")
        .annotate(
            bought=Count("batch__redemptions", distinct=True),
            handed=Count("handovers", distinct=True),
            scan=Count("handovers", filter=Q(handovers__payment="scan"), distinct=True),
            cash=Count("handovers", filter=Q(handovers__payment="cash"), distinct=True),
        )
        .order_by("starts_at", "id")
    )
    return [
        {
            "committee": p.committee.code,
            "place": p.place,
            "starts_at": timezone.localtime(p.starts_at),
            "bought": p.bought,
            "handed_over": p.handed,
            "scan": p.scan,
            "cash": p.cash,
        }
        for p in points
    ]


def voucher_fulfilment(voucher: Voucher) -> dict[str, Any]:
    """How the household's pack reached it: bought where/how, handed over or delivered."""
    redemption = Redemption.objects.filter(voucher=voucher).first()
    handover = Handover.objects.filter(voucher=voucher).first()
    return {
        "status": voucher.status,
        "fulfilment": voucher.fulfilment,
        "redeemed_at": voucher.redeemed_at,
        "channel": redemption.channel if redemption else None,
        "handover": {
            "kind": handover.kind,
            "at": handover.at,
            "recipient": mask_name(handover.recipient_name),
        }
        if handover
        else None,
    }
