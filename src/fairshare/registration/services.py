"""Registration writes: one household, one place in line, on every channel.

Every channel (online page, API, desk, phone, photo, building sheet) goes through
``registration_create``. Invariants 1 and 2 (BRIEF) hold because, inside ONE
``write_transaction``, the (round, committee) queue counter row is locked (row lock
on PostgreSQL; the IMMEDIATE transaction on SQLite), the household's live
registration is looked up, the next number is taken, the row is inserted (the
partial unique constraint "one live registration per household and round" is the
final guard) and the ledger link and counter are written — all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.scoping import require_committee_in_scope
from fairshare.community.models import Committee, Household, Member
from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.fastsql import WriteBatch, insert_model, select_models
from fairshare.core.locking import supports_row_locks, write_transaction
from fairshare.core.sms import sms_enqueue
from fairshare.registration.ledger import canonical, link_hash, voided_payload
from fairshare.registration.lookup import ROSTER_ATTR
from fairshare.registration.models import (
    Channel,
    LedgerEntry,
    QueueCounter,
    Registration,
)
from fairshare.registration.phonecodes import phone_code_check, phone_code_consume
from fairshare.registration.selectors import ledger_at_iso, registered_payload_for
from fairshare.registration.tickets import ticket_display, ticket_new
from fairshare.registration.validation import clean_name, clean_phone, clean_returnee
from fairshare.rounds.models import Round

TICKET_ATTEMPTS = 5
# Residents themselves may use these; the others are entered by committee staff.
ANONYMOUS_CHANNELS = (Channel.ONLINE, Channel.PHOTO)
VOID_REASONS = {
    "duplicate": _("duplicate"),
    "not_resident": _("not a resident of this household"),
    "withdrawn": _("withdrawn by the household"),
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


def _same_key(text: str) -> str:
    return "".join(text.split()).casefold()


def _roster_match(household: Household, name: str) -> bool:
    wanted = _same_key(name)
    names = getattr(household, ROSTER_ATTR, None)  # fetched with the household (lookup.py)
    if names is not None:
        return any(_same_key(n) == wanted for n in names)
    table = connection.ops.quote_name(Member._meta.db_table)
    with connection.cursor() as cursor:  # hot path: no ORM compilation (core/fastsql.py)
        sql = f"SELECT name FROM {table} WHERE household_id = %s"  # noqa: S608 - model table
        cursor.execute(sql, [household.pk])
        names = [row[0] for row in cursor.fetchall()]
    return any(_same_key(n) == wanted for n in names)


def _require_scope(actor: User | None, committee_id: int) -> None:
    require_committee_in_scope(
        actor, committee_id, message=_("You may only manage registrations of your own committee.")
    )


def _lock_counter(*, round_id: int, committee_id: int) -> QueueCounter:
    """The (round, committee) counter row, locked for the rest of the transaction."""

    def query() -> QueueCounter | None:
        found = select_models(
            QueueCounter,
            "round_id = %s AND committee_id = %s",
            [round_id, committee_id],
            suffix="FOR UPDATE" if supports_row_locks() else "",
        )
        return found[0] if found else None

    counter = query()
    if counter is None:
        # INSERT … ON CONFLICT DO NOTHING: concurrent first registrations cannot fail here.
        QueueCounter.objects.bulk_create(
            [QueueCounter(round_id=round_id, committee_id=committee_id)], ignore_conflicts=True
        )
        counter = query()
        assert counter is not None
    return counter


def _counter_save(counter: QueueCounter, batch: WriteBatch) -> None:
    table = connection.ops.quote_name(QueueCounter._meta.db_table)
    sql = (
        f"UPDATE {table} "  # noqa: S608
        "SET last_number = %s, ledger_seq = %s, head_hash = %s WHERE id = %s"
    )
    batch.add(sql, [counter.last_number, counter.ledger_seq, counter.head_hash, counter.pk])


def _append_link(
    counter: QueueCounter,
    *,
    kind: str,
    registration: Registration,
    payload: dict,
    batch: WriteBatch | None = None,
) -> LedgerEntry:
    text = canonical(payload)
    entry = LedgerEntry(
        round_id=counter.round_id,
        committee_id=counter.committee_id,
        seq=payload["seq"],
        kind=kind,
        registration=registration,
        payload=text,
        prev_hash=counter.head_hash,
        hash=link_hash(counter.head_hash, text),
    )
    if batch is not None:
        batch.insert(entry)
    else:
        insert_model(entry)
    counter.ledger_seq = entry.seq
    counter.head_hash = entry.hash
    return entry


def _confirmation_text(registration: Registration, round: Round, committee: Committee) -> str:
    # Residents get Chinese messages (BRIEF); the ticket is shown in groups for reading aloud.
    pending = "，待居委会核实" if registration.status == Registration.Status.PENDING_REVIEW else ""
    return (
        f"【公平配】{committee.name}：您户已登记（{round.name}），排队号{registration.queue_number}，"
        f"登记号{ticket_display(registration.ticket)}{pending}。"
        "登记不等于购买凭证，发放购买凭证时将另行短信通知。"
    )


def _validate_window(
    *, round: Round, channel: str, actor: Any, now: datetime, ack: datetime, errors: FieldErrors
) -> None:
    if round.status != Round.Status.OPEN or not (
        round.registration_opens_at <= now < round.registration_closes_at
    ):
        errors.add("round", _("Registration for this round is not open now."))
    elif ack < round.registration_opens_at or ack > now + timedelta(minutes=1):
        errors.add(
            "acknowledged_at",
            _("The registration time must lie between the opening of the round and now."),
        )


def registration_create(
    *,
    round: Round,
    household: Household,
    name: str,
    phone: str,
    channel: str,
    actor: Any = None,
    acknowledged_at: datetime | None = None,
    returned_recently: bool = False,
    returned_from: str = "",
    returned_on: date | None = None,
    id_checked: bool = False,
    phone_code: str | None = None,
) -> RegistrationResult:
    """Register ``household`` for ``round`` or return its existing registration.

    Same household, name and phone again → the original (``created`` False). Another
    person for an already registered household → ``AlreadyRegistered`` (409).
    """
    errors = FieldErrors()
    name = clean_name(name, errors)
    phone = clean_phone(phone, errors)
    is_staff = actor is not None and getattr(actor, "is_authenticated", False)
    if channel not in Channel.values:
        errors.add("channel", _("Unknown registration channel."))
    elif channel not in ANONYMOUS_CHANNELS and not is_staff:
        errors.add("channel", _("Only committee staff can register on this channel."))
    if acknowledged_at is not None and not is_staff:
        errors.add("acknowledged_at", _("Only committee staff can set the registration time."))
    now = timezone.now()
    ack = acknowledged_at or now
    _validate_window(round=round, channel=channel, actor=actor, now=now, ack=ack, errors=errors)
    committee = household.committee
    if committee.subdistrict.district_id != round.district_id:
        errors.add("committee", _("This committee does not take part in this round."))
    returned_recently, returned_from, returned_on = clean_returnee(
        returned_recently=bool(returned_recently),
        returned_from=returned_from,
        returned_on=returned_on,
        today=timezone.localdate(now),
        errors=errors,
    )
    if is_staff:
        _require_scope(actor, committee.pk)
    code_id = None
    if round.phone_verification and channel == Channel.ONLINE and not errors:
        code_id = phone_code_check(phone=phone, code=phone_code, errors=errors)
    if errors:
        raise errors

    matched = channel != Channel.PHOTO and _roster_match(household, name)
    status = Registration.Status.VERIFIED if matched else Registration.Status.PENDING_REVIEW
    ticket = ticket_new()
    with write_transaction():
        counter = _lock_counter(round_id=round.pk, committee_id=committee.pk)
        number = counter.last_number + 1
        registration = None
        # Insert first: the partial unique index "one live registration per household
        # and round" answers whether the household is registered already, so the common
        # case needs no separate look-up. ON CONFLICT DO NOTHING inserts nothing on a
        # conflict (that household, or a ticket drawn twice) and we look at which one.
        for _attempt in range(TICKET_ATTEMPTS):
            candidate = Registration(
                round=round,
                committee=committee,
                household=household,
                queue_number=number,
                ticket=ticket,
                channel=channel,
                status=status,
                name=name,
                phone=phone,
                acknowledged_at=ack,
                returned_recently=returned_recently,
                returned_from=returned_from,
                returned_on=returned_on,
                created_by=actor if is_staff else None,
                id_checked=bool(id_checked and is_staff),
            )
            if insert_model(candidate, ignore_conflicts=True):
                registration = candidate
                break
            existing = _live_registration(round_id=round.pk, household_id=household.pk)
            if existing is not None:
                return _same_or_conflict(existing, name=name, phone=phone)
            # The ticket was drawn before (or the look-up missed: the next attempt, with a
            # new ticket, conflicts again and looks again).
            ticket = ticket_new()
        if registration is None:
            raise RuntimeError("could not insert the registration (ticket or household conflict)")
        if code_id is not None:
            phone_code_consume(code_id=code_id)
        payload = registered_payload_for(registration, seq=counter.ledger_seq + 1)
        # Ledger link, counter and SMS: one round trip on PostgreSQL (core/fastsql.py).
        batch = WriteBatch()
        _append_link(
            counter,
            kind=LedgerEntry.Kind.REGISTERED,
            registration=registration,
            payload=payload,
            batch=batch,
        )
        counter.last_number = number
        _counter_save(counter, batch)
        sms_enqueue(
            phone=phone,
            text=_confirmation_text(registration, round, committee),
            household_id=household.pk,
            batch=batch,
        )
        batch.flush()
        if is_staff:
            audit_record(
                actor=actor,
                action="registration.create",
                obj=registration,
                after={"queue_number": number, "channel": channel, "status": status},
                subdistrict_id=committee.subdistrict_id,
                committee_id=committee.pk,
            )
    return RegistrationResult(registration=registration, created=True)


def _live_registration(*, round_id: int, household_id: int) -> Registration | None:
    return (
        Registration.objects.filter(round_id=round_id, household_id=household_id)
        .exclude(status=Registration.Status.VOID)
        .first()
    )


def _same_or_conflict(existing: Registration, *, name: str, phone: str) -> RegistrationResult:
    if existing.phone == phone and _same_key(existing.name) == _same_key(name):
        return RegistrationResult(registration=existing, created=False)
    raise AlreadyRegistered(existing)


def registration_approve(*, registration: Registration, actor: Any) -> Registration:
    """Staff confirm a pending registration (roster mismatch or photo checked)."""
    _require_scope(actor, registration.committee_id)
    with write_transaction():
        changed = Registration.objects.filter(
            pk=registration.pk, status=Registration.Status.PENDING_REVIEW
        ).update(status=Registration.Status.VERIFIED, reviewed_by=actor, reviewed_at=timezone.now())
        if not changed:
            raise Conflict(_("This registration is not waiting for review."), code="not_pending")
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
    *, registration: Registration, actor: Any, reason: str, note: str = ""
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
        counter = _lock_counter(
            round_id=registration.round_id, committee_id=registration.committee_id
        )
        before = Registration.objects.filter(pk=registration.pk).values("status").first()
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
        payload = voided_payload(
            seq=counter.ledger_seq + 1,
            queue_number=registration.queue_number,
            reason=reason,
            at_iso=ledger_at_iso(now),
        )
        _append_link(
            counter, kind=LedgerEntry.Kind.VOIDED, registration=registration, payload=payload
        )
        counter.save(update_fields=["ledger_seq", "head_hash"])
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
