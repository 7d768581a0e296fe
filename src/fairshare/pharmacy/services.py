"""Redeeming vouchers at the terminal: resolving a typed code or scanned token, the sale.

Offline batches synced later are in ``pharmacy.offline``; committee proxy purchases and
hand-overs in ``pharmacy.fulfilment``; both redeem through ``redemption_apply`` below.

The redemption rule (a voucher is redeemed at most once, only at its pharmacy, only
while valid) rests on one conditional UPDATE per redemption::

    UPDATE voucher SET status='redeemed', ... WHERE id=… AND status='issued'
       AND pharmacy_id=… AND date <= day AND valid_until >= day

and its row count. On PostgreSQL a concurrent second UPDATE waits for the first's
row lock and then re-evaluates the WHERE clause (now false: 0 rows); on SQLite every
write transaction is BEGIN IMMEDIATE, so they are serialized. When 0 rows change,
the voucher is re-read only to *explain* the refusal (403 / 409 / 410).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.allocation.models import SupplyDeclaration, Voucher
from fairshare.allocation.tokens import TOKEN_PREFIX, code_normalize, token_verify, voucher_claims
from fairshare.community.models import Committee, Pharmacy
from fairshare.core.audit import audit_entry
from fairshare.core.errors import Conflict, FieldErrors, Forbidden, Gone, NotFound
from fairshare.core.fastsql import (
    Join,
    WriteBatch,
    column_of,
    insert_model,
    model_field,
    select_joined,
)
from fairshare.core.locking import write_transaction
from fairshare.pharmacy.models import (
    Channel,
    ForgedTokenLog,
    OfflineBatch,
    ProxyBatch,
    Redemption,
)
from fairshare.registration.models import Registration

# --- resolving what was typed or scanned -------------------------------------------


def _forged_log(
    *,
    raw: str,
    reason: str,
    pharmacy: Pharmacy | None,
    actor: User | None,
    channel: str,
    terminal_id: str = "",
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


def _parse(raw: str) -> tuple[str | None, dict[str, Any] | None, bool]:
    """(canonical code or None, the token's claims or None, whether ``raw`` is a token).
    Nothing is logged or raised here; the callers decide what a failure means."""
    if raw.startswith(f"{TOKEN_PREFIX}."):
        claims = token_verify(raw)
        return (code_normalize(str(claims.get("c", ""))) if claims else None), claims, True
    return code_normalize(raw), None, False


def _claims_match(voucher: Voucher, claims: dict[str, Any]) -> bool:
    """A genuine token still describes its voucher (round, pharmacy, dates, packs)."""
    return all(claims.get(key) == value for key, value in voucher_claims(voucher).items())


def voucher_code_resolve(
    *,
    code_or_token: str,
    pharmacy: Pharmacy | None,
    actor: User | None,
    channel: str = Channel.ONLINE,
    terminal_id: str = "",
) -> tuple[str, dict[str, Any] | None]:
    """(canonical code, token claims or None). Malformed code or bad token → 422 on "code"."""
    raw = (code_or_token or "").strip()
    code, claims, is_token = _parse(raw)
    if is_token:
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
    if code is None:
        raise FieldErrors(
            {"code": [_("This is not a valid voucher code; check the characters and retry.")]}
        )
    return code, None


_VOUCHER_JOINS = tuple(  # what the terminal's answer shows, cached on the voucher
    Join(model, field=name)
    for name, model in (
        ("pharmacy", Pharmacy),
        ("declaration", SupplyDeclaration),
        ("registration", Registration),
        ("committee", Committee),
    )
)


def _voucher_get(code: str) -> Voucher:
    """The voucher with its pharmacy, batch, registration and committee: one statement,
    built once per process (the terminal's hot path; core/fastsql.py)."""
    rows = select_joined(Voucher, _VOUCHER_JOINS, "{Voucher}.code = %s", [code])
    if not rows:
        raise NotFound(_("No voucher has this code."))
    voucher: Voucher = rows[0].models[0]
    return voucher


def claims_check(
    *,
    voucher: Voucher,
    claims: dict[str, Any] | None,
    raw: str,
    pharmacy: Pharmacy | None,
    actor: User | None,
    channel: str,
    terminal_id: str = "",
) -> None:
    """A genuine token must still describe its voucher (round, pharmacy, dates, packs)."""
    if claims is None:
        return
    if not _claims_match(voucher, claims):
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


def voucher_lookup(*, code_or_token: str, pharmacy: Pharmacy | None, actor: User | None) -> Voucher:
    """The voucher a terminal scanned or typed (no state change)."""
    code, claims = voucher_code_resolve(code_or_token=code_or_token, pharmacy=pharmacy, actor=actor)
    voucher = _voucher_get(code)
    claims_check(
        voucher=voucher,
        claims=claims,
        raw=code_or_token,
        pharmacy=pharmacy,
        actor=actor,
        channel=Channel.ONLINE,
    )
    return voucher


# --- the redemption itself -----------------------------------------------------------


def _explain_refusal(*, voucher_id: int, pharmacy: Pharmacy, day: date) -> None:
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
        assert voucher.redeemed_at is not None  # constraint voucher_redeemed_iff_time
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


def redemption_apply(
    *,
    voucher: Voucher,
    pharmacy: Pharmacy,
    actor: User | None,
    at: datetime,
    channel: str,
    terminal_id: str = "",
    offline_batch: OfflineBatch | None = None,
    proxy_batch: ProxyBatch | None = None,
) -> Redemption:
    """The sale of a resolved voucher: the conditional UPDATE, the Redemption row and the
    audit row in one write transaction (a savepoint inside the caller's, if any).
    Refusals raise 403 / 409 / 410 (``_explain_refusal``). Used by the terminal, offline
    batches (``pharmacy.offline``) and proxy purchases (``pharmacy.fulfilment``)."""
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


@cache
def _update_sql(vendor: str, set_columns: tuple[str, ...]) -> str:
    qn = connection.ops.quote_name

    def column(name: str) -> str:
        return qn(column_of(model_field(Voucher, name)))

    return (
        f"UPDATE {qn(Voucher._meta.db_table)} SET "  # noqa: S608 - names from model metadata
        + ", ".join(f"{qn(column)} = %s" for column in set_columns)
        + f" WHERE {qn('id')} = %s AND {qn('status')} = %s AND {qn('pharmacy_id')} = %s"
        f" AND {column('date')} <= %s AND {column('valid_until')} >= %s"
    )


def _conditional_update(
    *, voucher_id: int, pharmacy_id: int, day: date, at: datetime, user_id: int | None, proxy: bool
) -> int:
    """The UPDATE of the redemption rule (module docstring); returns its row count. Hand-written
    (values through the fields' own adapters) to skip the ORM's compilation per call."""

    def field(name: str) -> Field[Any, Any]:
        return model_field(Voucher, name)

    sets = [
        (field("status"), Voucher.Status.REDEEMED),
        (field("redeemed_at"), at),
        (field("redeemed_by"), user_id),
    ]
    if proxy:
        sets.append((field("fulfilment"), Voucher.Fulfilment.PROXY))
    starts, ends = field("date"), field("valid_until")
    sql = _update_sql(connection.vendor, tuple(column_of(f) for f, _ in sets))
    params = [f.get_db_prep_save(value, connection) for f, value in sets]
    params += [voucher_id, Voucher.Status.ISSUED, pharmacy_id]
    params += [starts.get_db_prep_value(day, connection)]
    params += [ends.get_db_prep_value(day, connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def voucher_redeem_target(*, code_or_token: str) -> Voucher | None:
    """The voucher a sale will be about, read *before* the write transaction, or None when
    the code or token would be refused (malformed, forged, unknown, altered): then
    ``voucher_redeem`` without ``voucher`` resolves it again and answers (and logs) as
    usual. Nothing is written here. The sale's own guard is the conditional UPDATE, so a
    voucher read a moment before the write is as good as one read inside it."""
    code, claims, _is_token = _parse((code_or_token or "").strip())
    if code is None:
        return None
    try:
        voucher = _voucher_get(code)
    except NotFound:
        return None
    if claims is not None and not _claims_match(voucher, claims):
        return None
    return voucher


def voucher_redeem(
    *,
    code_or_token: str,
    pharmacy: Pharmacy,
    actor: User | None,
    at: datetime | None = None,
    channel: str = Channel.ONLINE,
    terminal_id: str = "",
    voucher: Voucher | None = None,
) -> Redemption:
    """Redeem a typed code or a scanned QR token at ``pharmacy``.

    422 malformed code / forged or altered token (logged); 404 unknown; 403 another
    pharmacy's; 409 already redeemed (with when and where); 410 expired, not yet
    valid or cancelled. Idempotency-Key handling is the API's (``core/endpoints.py``).
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
        claims_check(
            voucher=voucher,
            claims=claims,
            raw=code_or_token,
            pharmacy=pharmacy,
            actor=actor,
            channel=channel,
            terminal_id=terminal_id,
        )
    return redemption_apply(
        voucher=voucher,
        pharmacy=pharmacy,
        actor=actor,
        at=at or timezone.now(),
        channel=channel,
        terminal_id=terminal_id,
    )
