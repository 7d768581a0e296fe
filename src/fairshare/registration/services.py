"""Registration writes: one household, one place in line, on every channel.

Every channel (online page, API, desk, phone, photo, building sheet) goes through
``registration_create``, in two steps: ``registration_plan`` validates everything
without writing, ``registration_write`` writes in ONE ``write_transaction``: the
(round, committee) queue counter is locked, the next number taken and the row inserted
(the partial unique constraint "one live registration per household and round" is the
final guard), then the ledger link and the counter are written — all or nothing
(``registration/queue.py``; README.md, "The public ledger"). ``registration_submit``: the
entry point for callers that name the round and the address as typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict, Unpack

from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.scoping import require_committee_in_scope
from fairshare.community.models import Committee, Household
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.fastsql import WriteBatch
from fairshare.core.locking import write_transaction
from fairshare.core.phones import has_mobile
from fairshare.core.sms import sms_enqueue
from fairshare.registration import queue, rules
from fairshare.registration.ledger import approved_payload, voided_payload
from fairshare.registration.links import own_link_variables
from fairshare.registration.lookup import household_resolve, name_key, roster_match
from fairshare.registration.models import Channel, LedgerEntry, QueueCounter, Registration
from fairshare.registration.phonecodes import phone_code_check, phone_code_consume
from fairshare.registration.selectors import ledger_at_iso, registered_payload_for
from fairshare.registration.supersede import pending_supersede, supersedes
from fairshare.registration.tickets import ticket_display, ticket_new
from fairshare.registration.validation import clean_name, clean_phone, clean_returnee
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import round_get

TICKET_ATTEMPTS = 5
VOID_REASONS = {
    "duplicate": _("duplicate"),
    "not_resident": _("not a resident of this household"),
    "withdrawn": _("withdrawn by the household"),
    "wrong_address": _("wrong building or room"),
    "other": _("other"),
}


def _lazy_format(message: Any, **values: Any) -> Any:
    """A lazy message interpolated at render time (so the API can show both languages)."""
    return lazy(lambda: str(message) % values, str)()


@dataclass(frozen=True)
class RegistrationResult:
    registration: Registration
    created: bool


class AlreadyRegistered(Conflict):
    """The household already has a live registration for this round (HTTP 409)."""

    code = "already_registered"

    def __init__(self, existing: Registration) -> None:
        super().__init__(
            _lazy_format(
                _("This household is already registered for this round (queue number %(n)s)."),
                n=existing.queue_number,
            ),
            extra={"queue_number": existing.queue_number},
        )
        # For staff pages only; the API body does not carry the other person's ticket.
        self.registration = existing


def _require_scope(actor: User | None, committee_id: int) -> None:
    require_committee_in_scope(
        actor, committee_id, message=_("You may only manage registrations of your own committee.")
    )


def _confirmation_variables(
    registration: Registration, round: Round, committee: Committee
) -> dict[str, str]:
    # The "registration" SMS (core/sms.py); the ticket is shown in groups for reading aloud.
    pending = registration.status == Registration.Status.PENDING_REVIEW
    return {
        "committee": committee.name,
        "status": str(
            _("registered, awaiting the committee's check") if pending else _("registered")
        ),
        "round": round.name,
        "number": str(registration.queue_number),
        "ticket": ticket_display(registration.ticket),
    }


@dataclass(frozen=True)
class RegistrationPlan:
    """A checked registration, ready to be written (``registration_create``'s first step)."""

    round: Round
    household: Household
    name: str
    phone: str
    channel: str
    staff: User | None  # the acting committee staff member; None for residents
    written_at: datetime | None  # the time on the sheet; the entry time orders (rules.py)
    returned_recently: bool
    returned_from: str
    returned_on: date | None
    id_checked: bool
    status: str
    phone_code_id: int | None


def registration_plan(
    *,
    round: Round,
    household: Household,
    name: str,
    phone: str,
    channel: str,
    actor: User | None = None,
    written_at: datetime | None = None,
    returned_recently: bool = False,
    returned_from: str = "",
    returned_on: date | None = None,
    id_checked: bool = False,
    phone_code: str | None = None,
    photo_attached: bool = False,
) -> RegistrationPlan:
    """Validate a registration without writing; ``FieldErrors`` / ``Forbidden`` otherwise."""
    errors = FieldErrors()
    name = clean_name(name, errors)
    phone = clean_phone(phone, errors, mobile_required=rules.mobile_required(channel))
    staff = actor if actor is not None and actor.is_authenticated else None
    rules.validate_id_check(round=round, channel=channel, id_checked=id_checked, errors=errors)
    rules.validate_channel(
        channel, is_staff=staff is not None, photo_attached=photo_attached, errors=errors
    )
    now = timezone.now()
    rules.validate_round(round=round, committee=household.committee, now=now, errors=errors)
    rules.validate_written_at(
        written_at, round=round, is_staff=staff is not None, now=now, errors=errors
    )
    returned_recently, returned_from, returned_on = clean_returnee(
        returned_recently=bool(returned_recently),
        returned_from=returned_from,
        returned_on=returned_on,
        today=timezone.localdate(now),
        errors=errors,
    )
    if staff is not None:
        _require_scope(staff, household.committee_id)
    code_id = None
    if round.phone_verification and rules.resident_channel(channel, staff) and not errors:
        code_id = phone_code_check(phone=phone, code=phone_code, errors=errors)
    if errors:
        raise errors
    matched = channel != Channel.PHOTO and roster_match(household, name)
    return RegistrationPlan(
        round=round,
        household=household,
        name=name,
        phone=phone,
        channel=channel,
        staff=staff,
        written_at=written_at,
        returned_recently=returned_recently,
        returned_from=returned_from,
        returned_on=returned_on,
        id_checked=bool(id_checked and staff is not None),
        status=Registration.Status.VERIFIED if matched else Registration.Status.PENDING_REVIEW,
        phone_code_id=code_id,
    )


def _enqueue_new(
    counter: QueueCounter, plan: RegistrationPlan, superseded: list[queue.Link]
) -> Registration | RegistrationResult:
    """Insert the planned registration with the next number, or the household's answer.

    Insert first: the partial unique index "one live registration per household and
    round" answers whether the household is registered already, so the common case needs
    no separate look-up. On a conflict (that household, or a ticket drawn twice) nothing
    is inserted and we look at which one it was: the same registration again, a pending
    one this roster-matching registration supersedes (``registration/supersede.py``: its
    "voided" link joins ``superseded`` and the insert is tried again), or a conflict.
    """
    for _attempt in range(TICKET_ATTEMPTS):
        candidate = Registration(
            round=plan.round,
            committee=plan.household.committee,
            household=plan.household,
            ticket=ticket_new(),
            channel=plan.channel,
            status=plan.status,
            name=plan.name,
            phone=plan.phone,
            # The entry time, taken under the counter lock: it fixes the queue number,
            # so a later number never shows an earlier time (docs/fairness.md).
            acknowledged_at=timezone.now(),
            written_at=plan.written_at,
            returned_recently=plan.returned_recently,
            returned_from=plan.returned_from,
            returned_on=plan.returned_on,
            created_by=plan.staff,
            id_checked=plan.id_checked,
        )
        if queue.enqueue(counter, candidate):
            return candidate
        existing = _live_registration(round_id=plan.round.pk, household_id=plan.household.pk)
        if existing is None:
            continue  # the ticket was drawn before: a new ticket, and look again
        same = _same_or_conflict(existing, name=plan.name, phone=plan.phone, raise_=False)
        if same is not None:
            return same
        if not supersedes(existing, status=plan.status):
            raise AlreadyRegistered(existing)
        link = pending_supersede(existing, now=timezone.now())
        if link is not None:
            superseded.append(link)
    raise RuntimeError("could not insert the registration (ticket or household conflict)")


def registration_write(plan: RegistrationPlan) -> RegistrationResult:
    """Write a planned registration: number, row, ledger link, SMS, in one transaction."""
    committee = plan.household.committee
    with write_transaction():
        counter = queue.counter_lock(round_id=plan.round.pk, committee_id=committee.pk)
        superseded: list[queue.Link] = []
        inserted = _enqueue_new(counter, plan, superseded)
        if isinstance(inserted, RegistrationResult):
            return inserted
        registration = inserted
        if plan.phone_code_id is not None:
            phone_code_consume(code_id=plan.phone_code_id)
        # Ledger link, counter and SMS: one round trip on PostgreSQL (core/fastsql.py).
        batch = WriteBatch()
        link = (
            LedgerEntry.Kind.REGISTERED,
            registration,
            lambda seq: registered_payload_for(registration, seq=seq),
        )
        own = queue.ledger_append(counter, [*superseded, link], batch=batch)[-1]
        if has_mobile(plan.phone):  # else the slip is printed at the desk
            sms_enqueue(
                phone=plan.phone,
                kind="registration",
                variables=_confirmation_variables(registration, plan.round, committee)
                | own_link_variables(own),
                household_id=plan.household.pk,
                batch=batch,
            )
        batch.flush()
        if plan.staff is not None:
            audit_record(
                actor=plan.staff,
                action="registration.create",
                obj=registration,
                after={
                    "queue_number": registration.queue_number,
                    "channel": plan.channel,
                    "status": plan.status,
                },
                subdistrict_id=committee.subdistrict_id,
                committee_id=committee.pk,
            )
    return RegistrationResult(registration=registration, created=True)


class RegistrationOptions(TypedDict, total=False):
    """The optional keywords of ``registration_create`` / ``registration_submit``."""

    actor: User | None
    written_at: datetime | None
    returned_recently: bool
    returned_from: str
    returned_on: date | None
    id_checked: bool
    phone_code: str | None


def registration_create(
    *,
    round: Round,
    household: Household,
    name: str,
    phone: str,
    channel: str,
    photo_attached: bool = False,
    **options: Unpack[RegistrationOptions],
) -> RegistrationResult:
    """Register ``household`` for ``round`` or return its existing registration.

    Same household, name and phone again → the original (``created`` False). Another
    person for an already registered household → ``AlreadyRegistered`` (409).
    """
    plan = registration_plan(
        round=round,
        household=household,
        name=name,
        phone=phone,
        channel=channel,
        photo_attached=photo_attached,
        **options,
    )
    return registration_write(plan)


def registration_submit(
    *,
    round_id: int,
    committee_code: str,
    building: str,
    room: str,
    name: str,
    phone: str,
    channel: str,
    **options: Unpack[RegistrationOptions],
) -> RegistrationResult:
    """A registration as typed by its caller (API, building sheet): the round by id
    (``NotFound`` "unknown_round" otherwise), the household by committee code, building
    and room (per-field ``FieldErrors``), then ``registration_create``, whose channel rule
    is the only one (residents: online; a photo needs ``registration/photos.py``)."""
    round = round_get(round_id=round_id)
    household = household_resolve(committee_code=committee_code, building=building, room=room)
    return registration_create(
        round=round, household=household, name=name, phone=phone, channel=channel, **options
    )


def _live_registration(*, round_id: int, household_id: int) -> Registration | None:
    return (
        Registration.objects.filter(round_id=round_id, household_id=household_id)
        .exclude(status=Registration.Status.VOID)
        .first()
    )


def _same_or_conflict(
    existing: Registration, *, name: str, phone: str, raise_: bool = True
) -> RegistrationResult | None:
    if existing.phone == phone and name_key(existing.name) == name_key(name):
        return RegistrationResult(registration=existing, created=False)
    if raise_:
        raise AlreadyRegistered(existing)
    return None


def registration_approve(*, registration: Registration, actor: User) -> Registration:
    """Staff confirm a pending registration (roster mismatch or photo checked); an
    "approved" link joins the chain (from then on it waits at its place)."""
    _require_scope(actor, registration.committee_id)
    now = timezone.now()
    with write_transaction():
        counter = queue.counter_lock(
            round_id=registration.round_id, committee_id=registration.committee_id
        )
        changed = Registration.objects.filter(
            pk=registration.pk, status=Registration.Status.PENDING_REVIEW
        ).update(status=Registration.Status.VERIFIED, reviewed_by=actor, reviewed_at=now)
        if not changed:
            raise Conflict(_("This registration is not waiting for review."), code="not_pending")
        link = (
            LedgerEntry.Kind.APPROVED,
            registration,
            lambda seq: approved_payload(
                seq=seq, queue_number=registration.queue_number, at_iso=ledger_at_iso(now)
            ),
        )
        queue.ledger_append(counter, [link])
        audit_record(
            actor=actor,
            action="registration.approve",
            obj=registration,
            before={"status": registration.status},
            after={"status": Registration.Status.VERIFIED},
            subdistrict_id=registration.committee.subdistrict_id,
            committee_id=registration.committee_id,
        )
    registration.refresh_from_db()
    return registration


def registration_void(
    *, registration: Registration, actor: User, reason: str, note: str = ""
) -> Registration:
    """Void a registration: it keeps its queue number; a "voided" link is appended."""
    errors = FieldErrors()
    if reason not in VOID_REASONS:
        errors.add("reason", _("Choose a reason."))
    note = " ".join((note or "").split())[:150]
    if errors:
        raise errors
    _require_scope(actor, registration.committee_id)
    now = timezone.now()
    with write_transaction():
        counter = queue.counter_lock(
            round_id=registration.round_id, committee_id=registration.committee_id
        )
        before = {
            "status": Registration.objects.filter(pk=registration.pk)
            .values_list("status", flat=True)
            .first()
        }
        changed = (
            Registration.objects.filter(pk=registration.pk)
            .exclude(status=Registration.Status.VOID)
            .update(
                status=Registration.Status.VOID,
                void_reason=f"{reason}: {note}" if note else reason,
                reviewed_by=actor,
                reviewed_at=now,
            )
        )
        if not changed:
            raise Conflict(_("This registration is already void."), code="already_void")
        link = (
            LedgerEntry.Kind.VOIDED,
            registration,
            lambda seq: voided_payload(
                seq=seq,
                queue_number=registration.queue_number,
                reason=reason,
                at_iso=ledger_at_iso(now),
            ),
        )
        queue.ledger_append(counter, [link])
        audit_record(
            actor=actor,
            action="registration.void",
            obj=registration,
            before=before,
            after={"status": Registration.Status.VOID, "reason": reason},
            subdistrict_id=registration.committee.subdistrict_id,
            committee_id=registration.committee_id,
            note=note,
        )
    registration.refresh_from_db()
    return registration
