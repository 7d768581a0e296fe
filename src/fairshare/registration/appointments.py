"""Desk appointment times (大连路): windows per desk, slots that never overbook.

Staff open a window (start, end, minutes per household → capacity). A household (a
resident online, or staff for them) takes the next free slot: the window row is locked
(``lock_rows``, rule 6 in ``core/locking.py``), its ``booked`` counter read, compared with
the capacity and advanced in the same transaction, so concurrent takers queue on the row
and the window never overbooks (the check constraint ``booked <= capacity`` and the
unique (window, slot) are the database's last guard). The slot's time goes out by SMS
(kind "appointment") or on a printed slip. An appointment is only a time to come: the
queue number is still given at the desk, in arrival order (docs/fairness.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.scoping import require_committee_in_scope
from fairshare.community.models import Committee, Household
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.locking import lock_rows, write_transaction
from fairshare.core.sms import sms_enqueue
from fairshare.registration.models import Appointment, AppointmentWindow, Registration
from fairshare.registration.validation import clean_name, clean_phone
from fairshare.rounds.models import Round

LATE_AFTER = timedelta(minutes=10)


def window_open(
    *,
    round: Round,
    committee: Committee,
    desk: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    minutes_per_household: int | None,
    actor: User,
) -> AppointmentWindow:
    """Open an appointment window; per-field ``FieldErrors`` on bad input."""
    require_committee_in_scope(
        actor, committee.pk, message=_("You may only manage your own committee's desk.")
    )
    errors = FieldErrors()
    minutes = minutes_per_household or 2
    if minutes < 1 or minutes > 60:
        errors.add("minutes_per_household", _("Between 1 and 60 minutes."))
    if starts_at is None:
        errors.add("starts_at", _("Enter the start time."))
    if ends_at is None or (starts_at is not None and ends_at <= starts_at):
        errors.add("ends_at", _("The end must be after the start."))
    if errors:
        raise errors
    assert starts_at is not None and ends_at is not None
    capacity = int((ends_at - starts_at).total_seconds() // 60) // minutes
    return AppointmentWindow.objects.create(
        round=round,
        committee=committee,
        desk=(desk or "1").strip()[:32] or "1",
        starts_at=starts_at,
        ends_at=ends_at,
        minutes_per_household=minutes,
        capacity=capacity,
    )


def windows_bookable(
    *, round: Round, committee: Committee, now: datetime
) -> QuerySet[AppointmentWindow]:
    """The committee's windows of ``round`` that have not ended and still have a free slot
    (``free``: the places left)."""
    return AppointmentWindow.objects.filter(
        round=round, committee=committee, ends_at__gt=now, booked__lt=F("capacity")
    ).annotate(free=F("capacity") - F("booked"))


def appointment_take(
    *,
    window: AppointmentWindow,
    household: Household,
    name: str,
    phone: str = "",
    phone_required: bool = False,
) -> Appointment:
    """The household's next free slot in ``window`` (its existing one if it has one).

    ``phone_required`` (the resident's online path): a mobile phone must be given."""
    errors = FieldErrors()
    name = clean_name(name, errors)
    phone = clean_phone(phone, errors) if phone or phone_required else ""
    if household.committee_id != window.committee_id:
        errors.add("household", _("This household is not in the window's committee."))
    if errors:
        raise errors
    with write_transaction():
        locked = lock_rows(AppointmentWindow.objects.filter(pk=window.pk)).get()
        existing = Appointment.objects.filter(window=locked, household=household).first()
        if existing is not None:
            return existing
        if locked.booked >= locked.capacity:
            raise Conflict(_("This window is full; choose another time."), code="window_full")
        slot = locked.booked
        at = locked.starts_at + timedelta(minutes=slot * locked.minutes_per_household)
        appointment = Appointment.objects.create(
            window=locked, household=household, slot=slot, at=at, name=name, phone=phone
        )
        AppointmentWindow.objects.filter(pk=locked.pk).update(booked=slot + 1)
        if phone:
            sms_enqueue(
                phone=phone,
                kind="appointment",
                variables={
                    "committee": household.committee.name,
                    "desk": locked.desk,
                    "when": timezone.localtime(at).strftime("%m-%d %H:%M"),
                },
                household_id=household.pk,
            )
    return appointment


def appointments_due(
    *, round: Round, committee: Committee, now: datetime
) -> tuple[list[Appointment], list[Appointment]]:
    """(due now, late): appointments of today's windows whose household has not
    registered yet; due within the next 10 minutes, late when 10 minutes past."""

    registered = Registration.objects.filter(round=round, committee=committee).exclude(
        status=Registration.Status.VOID
    )
    pending = (
        Appointment.objects.filter(window__round=round, window__committee=committee)
        .exclude(household__in=registered.values("household"))
        .select_related("household__building", "window")
        .filter(at__date=timezone.localdate(now))
    )
    due = [a for a in pending if now - LATE_AFTER <= a.at <= now + LATE_AFTER]
    late = [a for a in pending if a.at < now - LATE_AFTER]
    return due, late
