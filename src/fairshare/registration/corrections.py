"""Staff corrections of a registration: its phone or name, or a move to the right address.

``registration_correct`` changes the representative's name or phone in ONE
``write_transaction`` (the committee scope checked as for every staff write, the row
re-read under the lock), audited with before and after (the phone masked as in the
exports, ``core.masking.mask_phone``):

* a name is public (masked on the board and in the chain), so a name change appends a
  ``corrected`` link (``ledger.corrected_payload``, field ``name``, the new masked
  name) to the (round, committee) chain; earlier links are never rewritten;
* a phone is not public: no link, but the phone rule of every registration
  (``validation.clean_phone``, ``core/phones.py``) is checked again.

The status is not changed: a pending registration whose name is corrected to a roster
name still waits for a person to approve it (the correction and the approval are two
decisions, audited apart); the result says whether the name now matches the roster.

A wrong building or room cannot be corrected in place: the address fixes the queue the
registration is in, and nobody, staff included, may choose a household's place
(docs/fairness.md, "Corrections"). ``registration_move`` voids the registration
(reason ``wrong_address``) and registers the right household at the desk with the next
queue number, in one transaction; a household holding a live voucher cannot be moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.community.models import Household
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.locking import lock_rows, write_transaction
from fairshare.core.masking import mask_name, mask_phone
from fairshare.registration import queue
from fairshare.registration.holds import live_voucher_holds
from fairshare.registration.ledger import corrected_payload
from fairshare.registration.lookup import roster_match
from fairshare.registration.models import Channel, LedgerEntry, QueueCounter, Registration
from fairshare.registration.selectors import ledger_at_iso
from fairshare.registration.services import (
    _require_scope,
    registration_plan,
    registration_void,
    registration_write,
)
from fairshare.registration.validation import clean_name, clean_phone

MOVE_REASON = "wrong_address"
NOTE_MAX = 150


@dataclass(frozen=True)
class CorrectionResult:
    registration: Registration
    changed: tuple[str, ...]  # the fields really changed ("name", "phone"); () for none
    roster_match: bool  # whether the (new) name is on the household's roster


@dataclass(frozen=True)
class MoveResult:
    voided: Registration
    registration: Registration  # at the right address
    created: bool  # False: that household was registered already with this name and phone


def _clean_note(note: str | None) -> str:
    return " ".join((note or "").split())[:NOTE_MAX]


def _audit_view(field: str, value: str) -> str:
    return mask_phone(value) if field == "phone" else value


def _refuse_unless_correctable(registration: Registration) -> None:
    if registration.status == Registration.Status.VOID:
        raise Conflict(
            _("This registration is void; it cannot be corrected."), code="registration_void"
        )
    if registration.personal_data_purged_at is not None:
        raise Conflict(
            _("The personal data of this round were deleted; nothing can be corrected."),
            code="personal_data_purged",
        )


def _clean_correction(name: str | None, phone: str | None) -> dict[str, str]:
    errors = FieldErrors()
    wanted: dict[str, str] = {}
    if name is not None:
        wanted["name"] = clean_name(name, errors)
    if phone is not None:
        wanted["phone"] = clean_phone(phone, errors)
    if not wanted:
        errors.add("name", _("Enter the corrected name or phone number."))
    if errors:
        raise errors
    return wanted


def registration_correct(
    *,
    registration: Registration,
    actor: User,
    name: str | None = None,
    phone: str | None = None,
    note: str = "",
) -> CorrectionResult:
    """Correct the name and/or phone (None: leave it). Bad input → ``FieldErrors``,
    nothing changes; another committee → ``Forbidden``; a void or purged one → ``Conflict``.
    The same values again change nothing (``changed`` empty, no link, no audit)."""
    wanted = _clean_correction(name, phone)
    note = _clean_note(note)
    _require_scope(actor, registration.committee_id)
    now = timezone.now()
    with write_transaction():
        counter = None
        if "name" in wanted:  # the chain may grow: its counter first (lock order)
            counter = queue.counter_lock(
                round_id=registration.round_id, committee_id=registration.committee_id
            )
        # Re-read under the lock (no joins: FOR UPDATE would lock the joined rows too).
        current = lock_rows(Registration.objects.filter(pk=registration.pk)).get()
        _refuse_unless_correctable(current)
        changes = {f: v for f, v in wanted.items() if getattr(current, f) != v}
        if changes:
            before = {f: _audit_view(f, getattr(current, f)) for f in changes}
            Registration.objects.filter(pk=current.pk).update(**changes)
            for field, value in changes.items():
                setattr(current, field, value)
            if "name" in changes and counter is not None:
                _append_corrected_name(counter, current, at_iso=ledger_at_iso(now))
            audit_record(
                actor=actor,
                action="registration.correct",
                obj=current,
                before=before,
                after={f: _audit_view(f, v) for f, v in changes.items()},
                subdistrict_id=current.committee.subdistrict_id,
                committee_id=current.committee_id,
                note=note,
            )
    return CorrectionResult(
        registration=current,
        changed=tuple(changes),
        roster_match=roster_match(current.household, current.name),
    )


def _append_corrected_name(
    counter: QueueCounter, registration: Registration, *, at_iso: str
) -> None:
    number, value = registration.queue_number, mask_name(registration.name)
    link: queue.Link = (
        LedgerEntry.Kind.CORRECTED,
        registration,
        lambda seq: corrected_payload(
            seq=seq, queue_number=number, field="name", value=value, at_iso=at_iso
        ),
    )
    queue.ledger_append(counter, [link])


def voucher_refusal(registration: Registration, *, lock: bool = False) -> Conflict | None:
    """Why the registration's household cannot be moved (it holds a live voucher), or None."""
    pair = (registration.round_id, registration.household_id)
    hold = live_voucher_holds([pair], lock=lock).get(pair)
    if hold is None:
        return None
    return Conflict(
        _(
            "This household holds a voucher of this round (%(status)s): it cannot be moved "
            "to another address. Its voucher stays valid for the address it was issued to."
        )
        % {"status": hold.label},
        code="holds_voucher",
    )


def registration_move(
    *,
    registration: Registration,
    actor: User,
    household: Household,
    name: str | None = None,
    phone: str | None = None,
    id_checked: bool = False,
    note: str = "",
) -> MoveResult:
    """A registration entered for the wrong building or room: void it (``wrong_address``)
    and register ``household`` at the desk (the next queue number), in one transaction.
    The name and phone default to the voided registration's. Refused (``Conflict``)
    when the registration's household holds a live voucher of the round, or is void."""
    if household.pk == registration.household_id:
        raise FieldErrors({"room": [_("The registration is already for this household.")]})
    _require_scope(actor, registration.committee_id)
    plan = registration_plan(
        round=registration.round,
        household=household,
        name=registration.name if name is None else name,
        phone=registration.phone if phone is None else phone,
        channel=Channel.DESK,
        actor=actor,
        id_checked=id_checked,
    )
    note = _clean_note(note)
    with write_transaction():
        refusal = voucher_refusal(registration, lock=True)  # the round first: lock order
        if refusal is not None:
            raise refusal
        # Both queues in committee order (two moves the other way round cannot deadlock).
        for committee_id in sorted({registration.committee_id, household.committee_id}):
            queue.counter_lock(round_id=registration.round_id, committee_id=committee_id)
        voided = registration_void(
            registration=registration, actor=actor, reason=MOVE_REASON, note=note
        )
        result = registration_write(plan)
        audit_record(
            actor=actor,
            action="registration.move",
            obj=voided,
            before=_move_view(voided),
            after={**_move_view(result.registration), "registration": result.registration.pk},
            subdistrict_id=voided.committee.subdistrict_id,
            committee_id=voided.committee_id,
            note=note,
        )
    return MoveResult(voided=voided, registration=result.registration, created=result.created)


def _move_view(registration: Registration) -> dict[str, Any]:
    return {
        "committee": registration.committee.code,
        "queue_number": registration.queue_number,
        "address": str(registration.household),
    }
