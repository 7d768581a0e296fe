"""Committee proxy purchases (代购) of residents' vouchers, and hand-overs / deliveries of
bought packs (pick-up point or the homes of the elderly and disabled)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import is_pharmacy_staff
from fairshare.accounts.scoping import committee_in_scope
from fairshare.allocation.models import Voucher
from fairshare.allocation.tokens import code_normalize
from fairshare.community.models import Committee, Pharmacy
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors, Forbidden, Gone
from fairshare.core.locking import write_transaction
from fairshare.pharmacy.models import (
    Channel,
    Handover,
    PickupPoint,
    ProxyBatch,
)
from fairshare.pharmacy.services import redemption_apply


def voucher_proxy_redeem_batch(
    *, committee: Committee, pharmacy: Pharmacy, codes: list[str], actor: User
) -> dict[str, Any]:
    """Committee staff redeem many of their residents' vouchers at once.

    Per-item results in one transaction: each valid voucher is redeemed, each refused
    one is listed with its reason (one expired voucher must not block thirty others).
    """
    if not committee_in_scope(actor, committee.pk):
        raise Forbidden(_("You can buy only for your own committee."))
    if committee.pharmacy_id != pharmacy.pk:
        raise FieldErrors({"pharmacy": [_("This is not the committee's designated pharmacy.")]})
    if not codes or len(codes) > 500:
        raise FieldErrors({"codes": [_("Give 1 to 500 voucher codes.")]})
    results: list[dict[str, Any]] = []
    with write_transaction():
        batch = ProxyBatch.objects.create(committee=committee, pharmacy=pharmacy, actor=actor)
        for raw in codes:
            code = code_normalize(raw)
            if code is None:
                results.append({"code": raw, "outcome": "rejected", "reason": "malformed"})
                continue
            voucher = Voucher.objects.filter(code=code).first()
            if voucher is None or voucher.committee_id != committee.pk:
                results.append({"code": code, "outcome": "rejected", "reason": "not_found"})
                continue
            try:
                redemption_apply(
                    voucher=voucher,
                    pharmacy=pharmacy,
                    actor=actor,
                    at=timezone.now(),
                    channel=Channel.PROXY,
                    proxy_batch=batch,
                )
            except (Forbidden, Conflict, Gone) as exc:
                results.append(
                    {
                        "code": code,
                        "outcome": "rejected",
                        "reason": exc.code,
                        "detail": str(exc.message),
                    }
                )
            else:
                results.append({"code": code, "outcome": "redeemed", "reason": ""})
        audit_record(
            actor=actor,
            action="proxy_batch.redeem",
            obj=batch,
            after={"codes": len(codes)},
            committee_id=committee.pk,
            pharmacy_id=pharmacy.pk,
        )
    redeemed = sum(1 for r in results if r["outcome"] == "redeemed")
    return {"batch": batch.pk, "redeemed": redeemed, "items": results}


def hand_over(
    *,
    voucher: Voucher,
    actor: User,
    recipient_name: str,
    kind: str,
    pickup_point: PickupPoint | None = None,
    payment: str = "",
) -> Handover:
    """Record a bought pack handed to its household, once (the conditional update and the
    one-to-one ``Handover.voucher``); ``pickup_point`` and ``payment`` at a pickup point."""
    recipient_name = (recipient_name or "").strip()
    if not recipient_name or len(recipient_name) > 64:
        raise FieldErrors({"recipient_name": [_("Who received the pack (1 to 64 characters).")]})
    if is_pharmacy_staff(actor):
        raise Forbidden(_("Hand-overs and deliveries are recorded by committee staff."))
    if not committee_in_scope(actor, voucher.committee_id):
        raise Forbidden(_("This household belongs to another committee."))
    now = timezone.now()
    with write_transaction():
        rows = Voucher.objects.filter(
            pk=voucher.pk, status=Voucher.Status.REDEEMED, handed_over_at__isnull=True
        ).update(handed_over_at=now, handed_over_by=actor)
        if rows != 1:
            current = Voucher.objects.get(pk=voucher.pk)
            if current.handed_over_at is not None:
                raise Conflict(_("Already handed over."), code="already_handed_over")
            raise Conflict(_("The voucher has not been bought yet."), code="not_redeemed")
        handover = Handover.objects.create(
            voucher=voucher,
            kind=kind,
            recipient_name=recipient_name,
            at=now,
            actor=actor,
            pickup_point=pickup_point,
            payment=payment,
        )
        audit_record(
            actor=actor,
            action=f"voucher.{kind}",
            obj=voucher,
            after={"at": now.isoformat(), "received_by": recipient_name, "payment": payment},
            committee_id=voucher.committee_id,
        )
    return handover


def voucher_handover(*, voucher: Voucher, actor: User, recipient_name: str) -> Handover:
    """Record a pack handed to the household at the committee's pick-up point."""
    return hand_over(
        voucher=voucher, actor=actor, recipient_name=recipient_name, kind=Handover.Kind.PICKUP_POINT
    )


def voucher_deliver(*, voucher: Voucher, actor: User, recipient_name: str) -> Handover:
    """Record a home delivery (elderly, disabled) of a bought pack."""
    return hand_over(
        voucher=voucher, actor=actor, recipient_name=recipient_name, kind=Handover.Kind.DELIVERY
    )
