"""A round's life cycle: create, edit, open, close (docs/rounds.md).

Each service is one transaction and writes one audit entry with the before/after values
of what it changed. State changes lock the round and re-check its state under the lock
(``core/locking.py``). Who may call them (district and subdistrict staff of the round's
area) is decided by the callers above (``allocation/round_actions.py``): this layer knows
nothing of staff roles. The lottery, carry-over, voucher expiry and purge services live
in the apps that own their data (allocation, accounts) and are called from there.

States: draft → open → closed (→ archived in the admin). What may change in each state
is ``EDITABLE``; the policy and ``carried_first`` (``ORDER_FIELDS``) may not change
once registrations exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.fastsql import model_field
from fairshare.core.locking import lock_rows, write_transaction
from fairshare.core.schemas import MOMENT_ERROR, moment_in_range
from fairshare.rounds.models import Round

Actor = AbstractBaseUser | None

# The fields a round's staff set (API, pages); the area (district, subdistrict) is set at
# creation and never changes.
FIELDS = (
    "name",
    "registration_opens_at",
    "registration_closes_at",
    "valid_from",
    "valid_until",
    "policy",
    "offline_reserve_pct",
    "phone_verification",
    "desk_id_check_required",
    "carry_over_from",
    "pack_description",
    "packs_per_household",
    "voucher_valid_days",
    "requeue_expired",
    "carried_first",
)
# Settings of the order: fixed once a household registered (like the policy).
ORDER_FIELDS = {
    "policy": _("The policy cannot change once households registered."),
    "carried_first": _("The draw order cannot change once households registered."),
}
_OPEN_EDITABLE = frozenset(FIELDS) - {"registration_opens_at", "carry_over_from"}
EDITABLE: dict[str, frozenset[str]] = {
    Round.Status.DRAFT: frozenset(FIELDS),
    Round.Status.OPEN: _OPEN_EDITABLE,
    Round.Status.CLOSED: frozenset({"name", "valid_until", "voucher_valid_days"}),
    Round.Status.ARCHIVED: frozenset(),
}


@dataclass(frozen=True)
class RoundArea:
    """Where a round runs: a district, and one of its subdistricts or None (all)."""

    district_id: int
    subdistrict_id: int | None = None


def round_snapshot(round: Round) -> dict[str, Any]:
    """The round's settable values, status and area as JSON (audit before/after)."""
    values: dict[str, Any] = {}
    for name in (*FIELDS, "status", "district", "subdistrict"):
        value = getattr(round, model_field(Round, name).attname)
        values[name] = value.isoformat() if isinstance(value, date | datetime) else value
    return values


def _changes(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _audit(
    *, actor: Actor, action: str, round: Round, before: dict[str, Any], after: dict[str, Any]
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=round,
        before=before,
        after=after,
        subdistrict_id=round.subdistrict_id,
    )


def _shares_committees(round: Round) -> Q:
    """Other rounds that cover committees of this round (same district; either one
    district-wide, or the same subdistrict)."""
    same = Q(district_id=round.district_id)
    if round.subdistrict_id is not None:
        same &= Q(subdistrict__isnull=True) | Q(subdistrict_id=round.subdistrict_id)
    others = Round.objects.filter(same).exclude(status=Round.Status.ARCHIVED)
    return Q(pk__in=others.exclude(pk=round.pk).values("pk"))


_DATES = ("registration_opens_at", "registration_closes_at", "valid_from", "valid_until")


def _dates_validate(round: Round) -> None:
    """A typo such as year 0436 or offset -20:52 is a per-field error, never a database
    error (500): ``core.schemas.moment_in_range``, the one rule."""
    errors = FieldErrors()
    for name in _DATES:
        if not moment_in_range(getattr(round, name)):
            errors.add(name, MOMENT_ERROR)
    if errors:
        raise errors


def round_validate(*, round: Round) -> None:
    """FieldErrors (422) for a round whose dates run backwards or overlap another round
    over the same committees, or whose settings are out of range."""
    _dates_validate(round)
    errors = FieldErrors()
    if not round.name.strip():
        errors.add("name", _("Give the round a name."))
    opens, closes = round.registration_opens_at, round.registration_closes_at
    if closes <= opens:
        errors.add("registration_closes_at", _("Registration must close after it opens."))
    if round.valid_until < round.valid_from:
        errors.add("valid_until", _("The last purchase day must not be before the first."))
    elif round.valid_from < timezone.localtime(opens).date():
        errors.add("valid_from", _("Purchases cannot start before registration opens."))
    if not 0 <= round.offline_reserve_pct <= 100:
        errors.add("offline_reserve_pct", _("Give a percentage from 0 to 100."))
    if round.packs_per_household < 1:
        errors.add("packs_per_household", _("At least one pack per household."))
    if round.voucher_valid_days < 1:
        errors.add("voucher_valid_days", _("A voucher is valid for at least one day."))
    if round.policy not in Round.Policy.values:
        errors.add("policy", _("Unknown allocation policy."))
    _validate_overlaps(round, errors)
    _validate_carry_over(round, errors)
    if errors:
        raise errors


def _validate_overlaps(round: Round, errors: FieldErrors) -> None:
    if errors.errors.keys() & {"registration_closes_at", "valid_until"}:
        return
    others = Round.objects.filter(_shares_committees(round))
    window = others.filter(
        registration_opens_at__lt=round.registration_closes_at,
        registration_closes_at__gt=round.registration_opens_at,
    ).first()
    if window is not None:
        errors.add(
            "registration_opens_at",
            _("The registration window overlaps round “%(name)s”.") % {"name": window.name},
        )
    days = others.filter(
        valid_from__lte=round.valid_until, valid_until__gte=round.valid_from
    ).first()
    if days is not None:
        errors.add(
            "valid_from",
            _("The purchase days overlap round “%(name)s”.") % {"name": days.name},
        )


def _validate_carry_over(round: Round, errors: FieldErrors) -> None:
    previous = round.carry_over_from
    if previous is None:
        return
    same_district = previous.pk != round.pk and previous.district_id == round.district_id
    if not same_district or previous.registration_opens_at >= round.registration_opens_at:
        errors.add("carry_over_from", _("Choose an earlier round of the same district."))


def round_create(*, area: RoundArea, values: dict[str, Any], actor: Actor = None) -> Round:
    """A new draft round over ``area`` with ``values`` (names in ``FIELDS``)."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise FieldErrors({name: [_("This field cannot be set.")] for name in sorted(unknown)})
    round = Round(district_id=area.district_id, subdistrict_id=area.subdistrict_id, **values)
    round_validate(round=round)
    with write_transaction():
        round.save(force_insert=True)
        _audit(
            actor=actor, action="round.create", round=round, before={}, after=round_snapshot(round)
        )
    return round


def _locked(round: Round) -> Round:
    return lock_rows(Round.objects.filter(pk=round.pk)).get()


def round_update(*, round: Round, values: dict[str, Any], actor: Actor = None) -> Round:
    """Change the given fields, where the round's state allows (else 422 per field)."""
    with write_transaction():
        current = _locked(round)
        allowed = EDITABLE[current.status]
        refused = FieldErrors()
        for name in values:
            if name not in FIELDS:
                refused.add(name, _("This field cannot be set."))
            elif name not in allowed and _differs(current, name, values[name]):
                refused.add(
                    name,
                    _("This cannot be changed while the round is %(status)s.")
                    % {"status": current.get_status_display()},
                )
        registered = current.registrations.exists()
        for name, message in ORDER_FIELDS.items():
            if name in values and values[name] != getattr(current, name) and registered:
                refused.add(name, message)
        if refused:
            raise refused
        before = round_snapshot(current)
        for name, value in values.items():
            setattr(current, name, value)
        round_validate(round=current)
        current.save()
        changed_before, changed_after = _changes(before, round_snapshot(current))
        if changed_after:
            _audit(
                actor=actor,
                action="round.update",
                round=current,
                before=changed_before,
                after=changed_after,
            )
    return current


def _differs(round: Round, name: str, value: Any) -> bool:
    current = getattr(round, name)
    if isinstance(current, Model) or isinstance(value, Model):
        return getattr(current, "pk", None) != getattr(value, "pk", None)
    return bool(current != value)


def _transition(
    *, round: Round, source: str, target: str, actor: Actor, action: str, message: Any
) -> Round:
    with write_transaction():
        current = _locked(round)
        if current.status != source:
            raise Conflict(message, code="round_state")
        before = round_snapshot(current)
        current.status = target
        if target == Round.Status.CLOSED:
            now = timezone.now()
            if current.registration_opens_at < now < current.registration_closes_at:
                current.registration_closes_at = now  # registration closes now
        current.save(update_fields=["status", "registration_closes_at"])
        changed_before, changed_after = _changes(before, round_snapshot(current))
        _audit(
            actor=actor, action=action, round=current, before=changed_before, after=changed_after
        )
    return current


def round_open(*, round: Round, actor: Actor = None) -> Round:
    """Draft → open: registration runs in its window from now on."""
    if round.registration_closes_at <= timezone.now():
        raise FieldErrors(
            {"registration_closes_at": [_("Registration would already be closed; move the date.")]}
        )
    return _transition(
        round=round,
        source=Round.Status.DRAFT,
        target=Round.Status.OPEN,
        actor=actor,
        action="round.open",
        message=_("Only a draft round can be opened."),
    )


def round_close(*, round: Round, actor: Actor = None) -> Round:
    """Open → closed: registration ends now (if it had not), vouchers stay valid."""
    return _transition(
        round=round,
        source=Round.Status.OPEN,
        target=Round.Status.CLOSED,
        actor=actor,
        action="round.close",
        message=_("Only an open round can be closed."),
    )
