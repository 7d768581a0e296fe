"""Committee pickup points (九龙仓): a bulk purchase at the pharmacy, handed out at a set
place and time.

``pickup_point_create`` buys ``count`` of the committee's issued vouchers that can be
bought today at its designated pharmacy (the first by date and queue number) through
the proxy purchase path (``fulfilment.voucher_proxy_redeem_batch`` → the one redemption
path ``services.redemption_apply``: one Redemption per voucher, channel ``proxy``, bought
by the committee), and opens the point. All or nothing, in one write transaction: a
count above the committee's issued vouchers is refused, and so is a batch in which a
voucher was bought meanwhile elsewhere. ``pickup_point_hand_over`` records the hand-over
of one of the point's packs: who collected it and whether they paid by scan or cash
(``fulfilment.hand_over``: recorded once per voucher).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.scoping import require_committee_in_scope
from fairshare.allocation.models import Voucher
from fairshare.community.models import Committee
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.locking import write_transaction
from fairshare.pharmacy.fulfilment import hand_over, voucher_proxy_redeem_batch
from fairshare.pharmacy.models import Handover, PickupPoint

MAX_BATCH = 500


def purchasable(*, committee: Committee) -> QuerySet[Voucher]:
    """The committee's issued vouchers its pharmacy can sell today, in purchase order."""
    today = timezone.localdate()
    return Voucher.objects.filter(
        committee=committee,
        pharmacy_id=committee.pharmacy_id,
        status=Voucher.Status.ISSUED,
        date__lte=today,
        valid_until__gte=today,
    ).order_by("date", "registration__queue_number", "id")


def _checked(
    *, place: str, starts_at: datetime | None, ends_at: datetime | None, count: object
) -> tuple[str, int, datetime, datetime]:
    errors = FieldErrors()
    place = (place or "").strip()
    if not place or len(place) > 100:
        errors.add("place", _("Give the place (1 to 100 characters)."))
    if not isinstance(starts_at, datetime):
        errors.add("starts_at", _("Enter a valid time."))
    if not isinstance(ends_at, datetime):
        errors.add("ends_at", _("Enter a valid time."))
    elif isinstance(starts_at, datetime) and ends_at <= starts_at:
        errors.add("ends_at", _("The end must be after the start."))
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
        errors.add("count", _("Give 1 to 500 vouchers."))
    if errors:
        raise errors
    assert isinstance(count, int) and starts_at is not None and ends_at is not None
    return place, count, starts_at, ends_at


def pickup_point_create(
    *,
    committee: Committee,
    place: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    count: object,
    actor: User,
) -> PickupPoint:
    """Buy ``count`` vouchers for the committee and open its pickup point (module doc)."""
    require_committee_in_scope(
        actor, committee.pk, message=_("You can buy only for your own committee.")
    )
    place, number, starts, ends = _checked(
        place=place, starts_at=starts_at, ends_at=ends_at, count=count
    )
    with write_transaction():
        codes = list(purchasable(committee=committee).values_list("code", flat=True)[: number + 1])
        if number > len(codes):
            raise FieldErrors(
                {
                    "count": [
                        _("The committee has only %(n)d issued vouchers to buy today.")
                        % {"n": len(codes)}
                    ]
                }
            )
        result = voucher_proxy_redeem_batch(
            committee=committee, pharmacy=committee.pharmacy, codes=codes[:number], actor=actor
        )
        if result["redeemed"] != number:
            raise Conflict(_("Some vouchers were bought meanwhile; nothing was bought. Retry."))
        return PickupPoint.objects.create(
            committee=committee,
            batch_id=result["batch"],
            place=place,
            starts_at=starts,
            ends_at=ends,
        )


def pickup_point_hand_over(
    *, point: PickupPoint, voucher: Voucher, recipient_name: str, payment: str, actor: User
) -> Handover:
    """Record one pack of the point handed over: who collected it, scan or cash."""
    if payment not in Handover.Payment.values:
        raise FieldErrors({"payment": [_("Choose scan or cash.")]})
    if not point.batch.redemptions.filter(voucher_id=voucher.pk).exists():
        raise Conflict(_("This voucher was not bought for this pickup point."))
    return hand_over(
        voucher=voucher,
        actor=actor,
        recipient_name=recipient_name,
        kind=Handover.Kind.PICKUP_POINT,
        pickup_point=point,
        payment=payment,
    )


def pickup_point_rows(*, point: PickupPoint) -> list[dict[str, object]]:
    """The point's hand-over list: each bought voucher, its household and its hand-over."""
    rows = []
    for redemption in point.batch.redemptions.select_related(
        "voucher__registration", "voucher__household__building", "voucher__handover"
    ).order_by("voucher__registration__queue_number"):
        voucher = redemption.voucher
        handover = getattr(voucher, "handover", None)
        rows.append(
            {
                "voucher": voucher,
                "queue_number": voucher.registration.queue_number,
                "building": voucher.household.building.label,
                "room": voucher.household.room,
                "packs": voucher.packs,
                "handover": handover,
            }
        )
    return rows
