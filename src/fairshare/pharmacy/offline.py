"""Offline redemptions: batches a terminal recorded without a connection, synced later.

Each item is redeemed through the same conditional UPDATE as an online sale
(``pharmacy.services.redemption_apply``); what cannot be redeemed any more is recorded as a
conflict or a rejection, never dropped. See docs/offline-redemption.md.

Only signed QR tokens may be sold offline: a typed code carries no signature, so a typed
code that names a real voucher is recorded as a conflict (``typed_code``) and not redeemed.
Sale times are bounded by the batch's upload time: later than the upload → clamped to it;
earlier than the upload minus the offline window (settings ``FAIRSHARE_OFFLINE_MAX_HOURS``
and ``FAIRSHARE_OFFLINE_CLOCK_SKEW_MINUTES``) → conflict; a sale claimed when the voucher
was not valid (outside its dates, before it was issued, cancelled) → conflict.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.allocation.models import Voucher
from fairshare.allocation.tokens import TOKEN_PREFIX
from fairshare.community.models import Pharmacy
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors, Forbidden, Gone
from fairshare.core.locking import write_transaction
from fairshare.pharmacy.models import (
    Channel,
    OfflineBatch,
    OfflineItem,
    Redemption,
    RedemptionConflict,
)
from fairshare.pharmacy.services import claims_check, redemption_apply, voucher_code_resolve

MAX_OFFLINE_ITEMS = 2000


def clock_skew() -> timedelta:
    """How far a terminal clock may drift from the server's without being noted."""
    return timedelta(minutes=settings.FAIRSHARE_OFFLINE_CLOCK_SKEW_MINUTES)


def offline_window() -> timedelta:
    """The longest a terminal may stay offline: older sales are conflicts, not sales."""
    return timedelta(hours=settings.FAIRSHARE_OFFLINE_MAX_HOURS)


def _batch_hash(items: list[dict[str, Any]]) -> str:
    raw = json.dumps(items, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _item_answer(item: OfflineItem) -> dict[str, Any]:
    return {
        "position": item.position,
        "code": item.code,
        "outcome": item.outcome,
        "reason": item.reason,
        "detail": item.detail,
    }


def _batch_answer(batch: OfflineBatch, *, replay: bool) -> dict[str, Any]:
    items = [_item_answer(item) for item in batch.items.order_by("position")]
    counts: dict[str, int] = {outcome: 0 for outcome in OfflineItem.Outcome.values}
    for item in items:
        counts[item["outcome"]] += 1
    return {"batch_id": batch.batch_id, "replay": replay, "counts": counts, "items": items}


def offline_batch_sync(
    *, pharmacy: Pharmacy, actor: User, batch_id: str, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """Apply redemptions a terminal recorded offline. Sending the same batch again returns
    the same answers and changes nothing; a batch id reused for other items is refused.

    Each item is {"code": code or QR token, "redeemed_at": aware datetime, "terminal_id"}.
    Outcomes: redeemed; duplicate (same voucher earlier in this batch); conflict (a
    RedemptionConflict row: a typed code, already redeemed online or by another batch,
    expired/cancelled meanwhile, a sale time outside the offline window or when the
    voucher was not valid); rejected (malformed, forged, unknown, another pharmacy's):
    nothing to attach a conflict to.
    """
    batch_id = (batch_id or "").strip()
    errors = FieldErrors()
    if not batch_id or len(batch_id) > 64:
        errors.add("batch_id", _("A batch id of 1 to 64 characters is required."))
    if not items or len(items) > MAX_OFFLINE_ITEMS:
        errors.add("items", _("A batch holds 1 to %(n)d items.") % {"n": MAX_OFFLINE_ITEMS})
    if errors:
        raise errors
    request_hash = _batch_hash(items)
    existing = OfflineBatch.objects.filter(pharmacy=pharmacy, batch_id=batch_id).first()
    if existing is not None:
        return _batch_replay(existing, request_hash)
    try:
        with write_transaction():
            batch = OfflineBatch.objects.create(
                pharmacy=pharmacy,
                batch_id=batch_id,
                request_hash=request_hash,
                submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            _batch_apply(batch=batch, pharmacy=pharmacy, actor=actor, items=items)
            audit_record(
                actor=actor,
                action="offline_batch.sync",
                obj=batch,
                after={"items": len(items)},
                pharmacy_id=pharmacy.pk,
            )
            return _batch_answer(batch, replay=False)
    except IntegrityError:
        existing = OfflineBatch.objects.filter(pharmacy=pharmacy, batch_id=batch_id).first()
        if existing is None:
            raise
        return _batch_replay(existing, request_hash)


def _batch_replay(batch: OfflineBatch, request_hash: str) -> dict[str, Any]:
    if batch.request_hash != request_hash:
        raise FieldErrors({"batch_id": [_("This batch id was already synced with other items.")]})
    return _batch_answer(batch, replay=True)


def _batch_apply(
    *, batch: OfflineBatch, pharmacy: Pharmacy, actor: User, items: list[dict[str, Any]]
) -> None:
    now = batch.submitted_at  # the upload time bounds every sale time of the batch
    prepared = []
    for position, item in enumerate(items):
        raw = str(item.get("code") or item.get("token") or "").strip()
        claimed = item.get("redeemed_at") or now
        # A terminal clock ahead of ours cannot date a sale in the future: clamped.
        at, ahead = min(claimed, now), claimed - now
        row = OfflineItem(
            batch=batch,
            position=position,
            raw=raw[:2000],
            redeemed_at=at,
            terminal_id=str(item.get("terminal_id") or "")[:64],
        )
        if ahead > clock_skew():
            row.detail = str(
                _("Terminal clock ahead by %(minutes)d minutes; sale time set to the upload time.")
                % {"minutes": ahead // timedelta(minutes=1)}
            )[:300]
        prepared.append((position, raw, at, row))
    resolved = []
    for position, raw, at, row in prepared:
        try:
            code, claims = voucher_code_resolve(
                code_or_token=raw,
                pharmacy=pharmacy,
                actor=actor,
                channel=Channel.OFFLINE,
                terminal_id=row.terminal_id,
            )
        except FieldErrors:
            forged = raw.startswith(f"{TOKEN_PREFIX}.")
            _reject(
                row,
                "forged" if forged else "malformed",
                _("Forged or altered QR token.") if forged else _("Malformed code."),
            )
            continue
        row.code = code
        resolved.append((code, at, position, row, claims))
    # Lock order by code avoids deadlocks between concurrent batches; within one code
    # the earliest sale is applied first.
    resolved.sort(key=lambda entry: (entry[0], entry[1], entry[2]))
    redeemed_here: set[str] = set()
    for code, at, _position, row, claims in resolved:
        _apply_one(
            row=row,
            code=code,
            at=at,
            claims=claims,
            batch=batch,
            pharmacy=pharmacy,
            actor=actor,
            redeemed_here=redeemed_here,
        )


def _reject(row: OfflineItem, reason: str, detail: Any) -> None:
    row.outcome, row.reason, row.detail = OfflineItem.Outcome.REJECTED, reason, str(detail)[:300]
    row.save()


def _apply_one(
    *,
    row: OfflineItem,
    code: str,
    at: datetime,
    claims: dict | None,
    batch: OfflineBatch,
    pharmacy: Pharmacy,
    actor: User,
    redeemed_here: set[str],
) -> None:
    voucher = Voucher.objects.select_related("pharmacy").filter(code=code).first()
    if voucher is None:
        _reject(row, "unknown", _("No voucher has this code."))
        return
    row.voucher = voucher
    try:
        claims_check(
            voucher=voucher,
            claims=claims,
            raw=row.raw,
            pharmacy=pharmacy,
            actor=actor,
            channel=Channel.OFFLINE,
            terminal_id=row.terminal_id,
        )
    except FieldErrors:
        _reject(row, "forged", _("Forged or altered QR token."))
        return
    if voucher.pharmacy_id != pharmacy.pk:
        _reject(
            row,
            "other_pharmacy",
            _("This voucher belongs to another pharmacy: %(name)s.")
            % {"name": voucher.pharmacy.name},
        )
        return
    if claims is None:
        detail = _("A typed code cannot be sold offline: it carries no signature.")
        _conflict(row=row, voucher=voucher, pharmacy=pharmacy, reason="typed_code", detail=detail)
        return
    if code in redeemed_here:
        row.outcome, row.reason = OfflineItem.Outcome.DUPLICATE, "same_batch"
        row.detail = str(_("Scanned twice in this batch; counted once."))
        row.save()
        return
    refusal = _sale_time_refusal(voucher=voucher, at=at, uploaded_at=batch.submitted_at)
    if refusal is not None:
        _conflict(row=row, voucher=voucher, pharmacy=pharmacy, reason=refusal[0], detail=refusal[1])
        return
    if _redeem_item(row=row, voucher=voucher, at=at, batch=batch, pharmacy=pharmacy, actor=actor):
        redeemed_here.add(code)


def _sale_time_refusal(
    *, voucher: Voucher, at: datetime, uploaded_at: datetime
) -> tuple[str, Any] | None:
    """(reason, message) when the voucher could not have been sold at ``at``, else None."""
    if at < uploaded_at - offline_window() - clock_skew():
        return "outside_offline_window", _(
            "Sale time %(at)s is older than the offline window (%(hours)d hours before the sync)."
        ) % {
            "at": f"{timezone.localtime(at):%Y-%m-%d %H:%M}",
            "hours": settings.FAIRSHARE_OFFLINE_MAX_HOURS,
        }
    if at < voucher.issued_at - clock_skew():
        return "before_issue", _("Sale time %(at)s is before the voucher was issued.") % {
            "at": f"{timezone.localtime(at):%Y-%m-%d %H:%M}"
        }
    if voucher.status == Voucher.Status.CANCELLED:
        return "cancelled", _("This voucher was cancelled.")
    if not voucher.date <= timezone.localdate(at) <= voucher.valid_until:
        return "not_valid_at_sale", _(
            "Sale time %(at)s is outside the voucher's validity (%(start)s to %(end)s)."
        ) % {
            "at": f"{timezone.localtime(at):%Y-%m-%d %H:%M}",
            "start": voucher.date.isoformat(),
            "end": voucher.valid_until.isoformat(),
        }
    return None


def _redeem_item(
    *,
    row: OfflineItem,
    voucher: Voucher,
    at: datetime,
    batch: OfflineBatch,
    pharmacy: Pharmacy,
    actor: User,
) -> bool:
    """Apply one checked item; record its outcome (redeemed, conflict or rejected)."""
    try:
        redemption_apply(
            voucher=voucher,
            pharmacy=pharmacy,
            actor=actor,
            at=at,
            channel=Channel.OFFLINE,
            terminal_id=row.terminal_id,
            offline_batch=batch,
        )
    except Forbidden as exc:
        _reject(row, "other_pharmacy", exc.message)
    except Conflict as exc:
        _conflict(row=row, voucher=voucher, pharmacy=pharmacy, reason=exc.code, detail=exc.message)
    except Gone as exc:
        # Sold while valid (``_sale_time_refusal``), but expired on the server meanwhile.
        _conflict(row=row, voucher=voucher, pharmacy=pharmacy, reason=exc.code, detail=exc.message)
    else:
        row.outcome = OfflineItem.Outcome.REDEEMED
        row.reason = "clock_ahead" if row.detail else ""
        row.save()
        return True
    return False


def _conflict(
    *, row: OfflineItem, voucher: Voucher, pharmacy: Pharmacy, reason: str, detail: Any
) -> None:
    row.outcome, row.reason, row.detail = OfflineItem.Outcome.CONFLICT, reason, str(detail)[:300]
    row.save()
    RedemptionConflict.objects.create(
        voucher=voucher,
        pharmacy=pharmacy,
        item=row,
        first_redemption=Redemption.objects.filter(voucher=voucher).first(),
        offline_redeemed_at=row.redeemed_at,
    )
