"""Redeeming vouchers: online at the terminal, offline batches synced later, and proxy buys.

Invariant 4 (a voucher is redeemed at most once, only at its pharmacy, only while
valid) rests on one conditional UPDATE per redemption::

    UPDATE voucher SET status='redeemed', ... WHERE id=… AND status='issued'
       AND pharmacy_id=… AND date <= day AND valid_until >= day

and its row count. On PostgreSQL a concurrent second UPDATE waits for the first's
row lock and then re-evaluates the WHERE clause (now false: 0 rows); on SQLite every
write transaction is BEGIN IMMEDIATE, so they are serialized. When 0 rows change,
the voucher is re-read only to *explain* the refusal (403 / 409 / 410).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.scoping import committee_in_scope
from fairshare.allocation.models import SupplyDeclaration, Voucher
from fairshare.allocation.tokens import TOKEN_PREFIX, code_normalize, token_verify, voucher_claims
from fairshare.community.models import Committee, Pharmacy
from fairshare.core.audit import audit_entry, audit_record
from fairshare.core.errors import Conflict, FieldErrors, Forbidden, Gone, NotFound
from fairshare.core.fastsql import (
    WriteBatch,
    insert_model,
    model_columns,
    model_width,
    row_to_model,
)
from fairshare.core.locking import write_transaction
from fairshare.pharmacy.models import (
    Channel,
    ForgedTokenLog,
    Handover,
    OfflineBatch,
    OfflineItem,
    ProxyBatch,
    Redemption,
    RedemptionConflict,
)
from fairshare.registration.models import Registration

MAX_OFFLINE_ITEMS = 2000
CLOCK_SKEW = timedelta(minutes=10)


# --- resolving what was typed or scanned -------------------------------------------


def _forged_log(
    *, raw: str, reason: str, pharmacy: Any, actor: Any, channel: str, terminal_id: str = ""
) -> None:
    """Log a bad token. Its own savepoint, so a refusal raised afterwards does not undo it
    (callers that turn the refusal into an answer commit the surrounding transaction)."""
    with transaction.atomic():
        ForgedTokenLog.objects.create(
            pharmacy=pharmacy,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            channel=channel,
            reason=reason,
            token=(raw or "")[:2000],
            terminal_id=(terminal_id or "")[:64],
        )


def voucher_code_resolve(
    *,
    code_or_token: str,
    pharmacy: Any,
    actor: Any,
    channel: str = Channel.ONLINE,
    terminal_id: str = "",
) -> tuple[str, dict[str, Any] | None]:
    """(canonical code, token claims or None). Malformed code or bad token → 422 on "code"."""
    raw = (code_or_token or "").strip()
    if raw.startswith(f"{TOKEN_PREFIX}."):
        claims = token_verify(raw)
        code = code_normalize(str(claims.get("c", ""))) if claims else None
        if claims is None or code is None:
            _forged_log(
                raw=raw,
                reason="bad_signature" if claims is None else "bad_claims",
                pharmacy=pharmacy,
                actor=actor,
                channel=channel,
                terminal_id=terminal_id,
            )
            raise FieldErrors(
                {"code": [_("This QR code is not a genuine voucher (signature check failed).")]}
            )
        return code, claims
    code = code_normalize(raw)
    if code is None:
        raise FieldErrors(
            {"code": [_("This is not a valid voucher code; check the characters and retry.")]}
        )
    return code, None


_VOUCHER_JOINS = (  # (relation on Voucher, model): what the terminal's answer shows
    ("pharmacy", Pharmacy),
    ("declaration", SupplyDeclaration),
    ("registration", Registration),
    ("committee", Committee),
)


@cache
def _voucher_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    table = qn(Voucher._meta.db_table)
    cols = [model_columns(Voucher)]
    joins = []
    for name, model in _VOUCHER_JOINS:
        other = qn(model._meta.db_table)
        cols.append(model_columns(model))
        column = qn(Voucher._meta.get_field(name).column)
        joins.append(f"JOIN {other} ON {other}.{qn(model._meta.pk.column)} = {table}.{column}")
    return (
        f"SELECT {', '.join(cols)} FROM {table} {' '.join(joins)} "  # noqa: S608
        f"WHERE {table}.{qn('code')} = %s"
    )


def _voucher_get(code: str) -> Voucher:
    """The voucher with its pharmacy, batch, registration and committee: one statement,
    built once per process (the terminal's hot path; core/fastsql.py)."""
    with connection.cursor() as cursor:
        cursor.execute(_voucher_sql(connection.vendor), [code])
        row = cursor.fetchone()
    if row is None:
        raise NotFound(_("No voucher has this code."))
    at = model_width(Voucher)
    voucher = row_to_model(Voucher, row[:at])
    for name, model in _VOUCHER_JOINS:
        width = model_width(model)
        Voucher._meta.get_field(name).set_cached_value(
            voucher, row_to_model(model, row[at : at + width])
        )
        at += width
    return voucher


def _check_claims(
    *,
    voucher: Voucher,
    claims: dict[str, Any] | None,
    raw: str,
    pharmacy: Any,
    actor: Any,
    channel: str,
    terminal_id: str = "",
) -> None:
    """A genuine token must still describe its voucher (round, pharmacy, dates, packs)."""
    if claims is None:
        return
    expected = voucher_claims(voucher)
    if any(claims.get(key) != value for key, value in expected.items()):
        _forged_log(
            raw=raw,
            reason="claims_mismatch",
            pharmacy=pharmacy,
            actor=actor,
            channel=channel,
            terminal_id=terminal_id,
        )
        raise FieldErrors(
            {
                "code": [
                    _(
                        "This QR code does not match the voucher on record (another round or "
                        "an altered voucher)."
                    )
                ]
            }
        )


def voucher_lookup(*, code_or_token: str, pharmacy: Any, actor: Any) -> Voucher:
    """The voucher a terminal scanned or typed (no state change)."""
    code, claims = voucher_code_resolve(code_or_token=code_or_token, pharmacy=pharmacy, actor=actor)
    voucher = _voucher_get(code)
    _check_claims(
        voucher=voucher,
        claims=claims,
        raw=code_or_token,
        pharmacy=pharmacy,
        actor=actor,
        channel=Channel.ONLINE,
    )
    return voucher


# --- the redemption itself -----------------------------------------------------------


def _explain_refusal(*, voucher_id: int, pharmacy: Any, day: Any) -> None:
    """0 rows were updated: re-read and raise the reason. Order: pharmacy, redeemed, validity."""
    voucher = Voucher.objects.select_related("pharmacy").get(pk=voucher_id)
    if voucher.pharmacy_id != pharmacy.pk:
        raise Forbidden(
            _("This voucher belongs to another pharmacy: %(name)s.")
            % {"name": voucher.pharmacy.name},
            code="other_pharmacy",
        )
    if voucher.status == Voucher.Status.REDEEMED:
        first = Redemption.objects.filter(voucher_id=voucher.pk).first()
        when = timezone.localtime(voucher.redeemed_at)
        raise Conflict(
            _("Already bought on %(when)s at %(where)s.")
            % {"when": f"{when:%Y-%m-%d %H:%M}", "where": voucher.pharmacy.name},
            code="already_redeemed",
            extra={
                "redeemed_at": voucher.redeemed_at.isoformat(),
                "pharmacy": voucher.pharmacy.code,
                "pharmacy_name": voucher.pharmacy.name,
                "channel": first.channel if first else "",
            },
        )
    if voucher.status == Voucher.Status.CANCELLED:
        raise Gone(_("This voucher was cancelled."), code="cancelled")
    if voucher.status == Voucher.Status.EXPIRED or day > voucher.valid_until:
        raise Gone(
            _("This voucher expired on %(date)s.") % {"date": voucher.valid_until.isoformat()},
            code="expired",
        )
    if day < voucher.date:
        raise Gone(
            _("This voucher is valid from %(date)s.") % {"date": voucher.date.isoformat()},
            code="not_yet_valid",
        )
    raise Conflict(_("The voucher changed meanwhile; please retry."), code="retry")


def _redeem(
    *,
    voucher: Voucher,
    pharmacy: Any,
    actor: Any,
    at: datetime,
    channel: str,
    terminal_id: str = "",
    offline_batch: OfflineBatch | None = None,
    proxy_batch: ProxyBatch | None = None,
) -> Redemption:
    day = timezone.localdate(at)
    user = actor if getattr(actor, "is_authenticated", False) else None
    with write_transaction():
        rows = _conditional_update(
            voucher_id=voucher.pk,
            pharmacy_id=pharmacy.pk,
            day=day,
            at=at,
            user_id=user.pk if user is not None else None,
            proxy=channel == Channel.PROXY,
        )
        if rows != 1:
            _explain_refusal(voucher_id=voucher.pk, pharmacy=pharmacy, day=day)
        redemption = Redemption(
            voucher=voucher,
            pharmacy=pharmacy,
            channel=channel,
            redeemed_at=at,
            actor=user,
            terminal_id=(terminal_id or "")[:64],
            offline_batch=offline_batch,
            proxy_batch=proxy_batch,
        )
        insert_model(redemption)
        audit = WriteBatch()  # no result needed: no extra round trip on PostgreSQL
        audit.insert(
            audit_entry(
                actor=actor,
                action="voucher.redeem",
                obj=voucher,
                before={"status": "issued"},
                after={"status": "redeemed", "redeemed_at": at.isoformat(), "channel": channel},
                committee_id=voucher.committee_id,
                pharmacy_id=pharmacy.pk,
            )
        )
        audit.flush()
    voucher.status, voucher.redeemed_at, voucher.redeemed_by = Voucher.Status.REDEEMED, at, user
    if channel == Channel.PROXY:
        voucher.fulfilment = Voucher.Fulfilment.PROXY
    return redemption


def _conditional_update(
    *, voucher_id: int, pharmacy_id: int, day: Any, at: datetime, user_id: int | None, proxy: bool
) -> int:
    """The UPDATE of invariant 4 (module docstring); returns its row count. Hand-written
    (values through the fields' own adapters) to skip the ORM's compilation per call."""
    qn = connection.ops.quote_name
    field = Voucher._meta.get_field
    sets = [
        (field("status"), Voucher.Status.REDEEMED),
        (field("redeemed_at"), at),
        (field("redeemed_by"), user_id),
    ]
    if proxy:
        sets.append((field("fulfilment"), Voucher.Fulfilment.PROXY))
    date, valid_until = field("date"), field("valid_until")
    sql = (
        f"UPDATE {qn(Voucher._meta.db_table)} SET "  # noqa: S608 - names from model metadata
        + ", ".join(f"{qn(f.column)} = %s" for f, _ in sets)
        + f" WHERE {qn('id')} = %s AND {qn('status')} = %s AND {qn('pharmacy_id')} = %s"
        f" AND {qn(date.column)} <= %s AND {qn(valid_until.column)} >= %s"
    )
    params = [f.get_db_prep_save(value, connection) for f, value in sets]
    params += [voucher_id, Voucher.Status.ISSUED, pharmacy_id]
    params += [date.get_db_prep_value(day, connection)]
    params += [valid_until.get_db_prep_value(day, connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def voucher_redeem_target(*, code_or_token: str) -> Voucher | None:
    """The voucher a sale will be about, read *before* the write transaction, or None when
    the code or token would be refused (malformed, forged, unknown, altered): then
    ``voucher_redeem`` without ``voucher`` resolves it again and answers (and logs) as
    usual. Nothing is written here. The sale's own guard is the conditional UPDATE, so a
    voucher read a moment before the write is as good as one read inside it."""
    raw = (code_or_token or "").strip()
    claims = None
    if raw.startswith(f"{TOKEN_PREFIX}."):
        claims = token_verify(raw)
        code = code_normalize(str(claims.get("c", ""))) if claims else None
    else:
        code = code_normalize(raw)
    if code is None:
        return None
    try:
        voucher = _voucher_get(code)
    except NotFound:
        return None
    if claims is not None:
        expected = voucher_claims(voucher)
        if any(claims.get(key) != value for key, value in expected.items()):
            return None
    return voucher


def voucher_redeem(
    *,
    code_or_token: str,
    pharmacy: Any,
    actor: Any,
    at: datetime | None = None,
    channel: str = Channel.ONLINE,
    terminal_id: str = "",
    voucher: Voucher | None = None,
) -> Redemption:
    """Redeem a typed code or a scanned QR token at ``pharmacy``.

    422 malformed code / forged or altered token (logged); 404 unknown; 403 another
    pharmacy's; 409 already redeemed (with when and where); 410 expired, not yet
    valid or cancelled. Idempotency-Key handling is the caller's (the API).
    ``voucher``: what ``voucher_redeem_target`` returned for this code (skips the read,
    so that only the writes run inside the caller's write transaction).
    """
    if voucher is None:
        code, claims = voucher_code_resolve(
            code_or_token=code_or_token,
            pharmacy=pharmacy,
            actor=actor,
            channel=channel,
            terminal_id=terminal_id,
        )
        voucher = _voucher_get(code)
        _check_claims(
            voucher=voucher,
            claims=claims,
            raw=code_or_token,
            pharmacy=pharmacy,
            actor=actor,
            channel=channel,
            terminal_id=terminal_id,
        )
    return _redeem(
        voucher=voucher,
        pharmacy=pharmacy,
        actor=actor,
        at=at or timezone.now(),
        channel=channel,
        terminal_id=terminal_id,
    )


# --- offline batches -------------------------------------------------------------------


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
    *, pharmacy: Any, actor: Any, batch_id: str, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """Apply redemptions a terminal recorded offline. Sending the same batch again returns
    the same answers and changes nothing; a batch id reused for other items is refused.

    Each item is {"code": code or QR token, "redeemed_at": aware datetime, "terminal_id"}.
    Outcomes: redeemed; duplicate (same voucher earlier in this batch); conflict (already
    redeemed online or by another batch, or expired/cancelled meanwhile — a
    RedemptionConflict row); rejected (malformed, forged, unknown, another pharmacy's,
    outside its validity window).
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
    *, batch: OfflineBatch, pharmacy: Any, actor: Any, items: list[dict[str, Any]]
) -> None:
    now = timezone.now()
    prepared = []
    for position, item in enumerate(items):
        raw = str(item.get("code") or item.get("token") or "").strip()
        at = item.get("redeemed_at") or now
        at = min(at, now)  # a terminal clock ahead of ours cannot date a sale in the future
        prepared.append((position, raw, at, str(item.get("terminal_id") or "")[:64]))
    resolved = []
    for position, raw, at, terminal_id in prepared:
        row = OfflineItem(
            batch=batch, position=position, raw=raw[:2000], redeemed_at=at, terminal_id=terminal_id
        )
        try:
            code, claims = voucher_code_resolve(
                code_or_token=raw,
                pharmacy=pharmacy,
                actor=actor,
                channel=Channel.OFFLINE,
                terminal_id=terminal_id,
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
    pharmacy: Any,
    actor: Any,
    redeemed_here: set[str],
) -> None:
    voucher = Voucher.objects.select_related("pharmacy").filter(code=code).first()
    if voucher is None:
        _reject(row, "unknown", _("No voucher has this code."))
        return
    row.voucher = voucher
    try:
        _check_claims(
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
    if code in redeemed_here:
        row.outcome, row.reason = OfflineItem.Outcome.DUPLICATE, "same_batch"
        row.detail = str(_("Scanned twice in this batch; counted once."))
        row.save()
        return
    try:
        _redeem(
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
        if exc.code in ("expired", "cancelled") and voucher.date <= timezone.localdate(at) <= (
            voucher.valid_until
        ):
            # Sold while valid, but expired/cancelled on the server meanwhile.
            _conflict(
                row=row, voucher=voucher, pharmacy=pharmacy, reason=exc.code, detail=exc.message
            )
        else:
            _reject(row, exc.code, exc.message)
    else:
        redeemed_here.add(code)
        row.outcome, row.reason = OfflineItem.Outcome.REDEEMED, ""
        row.save()


def _conflict(
    *, row: OfflineItem, voucher: Voucher, pharmacy: Any, reason: str, detail: Any
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


# --- committee proxy purchase (代购) and hand-over -------------------------------------


def voucher_proxy_redeem_batch(
    *, committee: Any, pharmacy: Any, codes: list[str], actor: Any
) -> dict[str, Any]:
    """Committee staff redeem many of their residents' vouchers at once.

    Per-item results in one transaction: each valid voucher is redeemed, each refused
    one is listed with its reason (one expired voucher must not block thirty others).
    """
    if not committee_in_scope(actor, committee):
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
                _redeem(
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


def _hand_over(*, voucher: Voucher, actor: Any, recipient_name: str, kind: str) -> Handover:
    recipient_name = (recipient_name or "").strip()
    if not recipient_name or len(recipient_name) > 64:
        raise FieldErrors({"recipient_name": [_("Who received the pack (1 to 64 characters).")]})
    if getattr(actor, "role", "") == "pharmacy":
        raise Forbidden(_("Hand-overs and deliveries are recorded by committee staff."))
    if not committee_in_scope(actor, voucher.committee):
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
            voucher=voucher, kind=kind, recipient_name=recipient_name, at=now, actor=actor
        )
        audit_record(
            actor=actor,
            action=f"voucher.{kind}",
            obj=voucher,
            after={"at": now.isoformat()},
            committee_id=voucher.committee_id,
        )
    return handover


def voucher_handover(*, voucher: Voucher, actor: Any, recipient_name: str) -> Handover:
    """Record a pack handed to the household at the committee's pick-up point."""
    return _hand_over(
        voucher=voucher, actor=actor, recipient_name=recipient_name, kind=Handover.Kind.PICKUP_POINT
    )


def voucher_deliver(*, voucher: Voucher, actor: Any, recipient_name: str) -> Handover:
    """Record a home delivery (elderly, disabled) of a bought pack."""
    return _hand_over(
        voucher=voucher, actor=actor, recipient_name=recipient_name, kind=Handover.Kind.DELIVERY
    )
