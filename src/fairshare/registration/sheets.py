"""Building sheets (江湾国际): a printed lobby sheet per building, entered whole.

"No. 1 on the sheet is the first successful registration": the sheet's own line order
decides among its lines. ``sheet_enter`` checks every line first (``registration_plan``,
the one registration rule); any error holds the whole sheet (nothing written, per-line
and per-field errors for the page). A clean sheet is written in ONE transaction under
the (round, committee) queue lock, line by line through ``registration_write``, so the
lines take consecutive queue numbers in sheet order; nobody else's registration can slip
between them. The time written on a line is kept as ``written_at``: shown, never orders.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.scoping import require_committee_in_scope
from fairshare.community.models import Building
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.locking import write_transaction
from fairshare.registration import queue
from fairshare.registration.lookup import household_find
from fairshare.registration.models import BuildingSheet, Channel
from fairshare.registration.services import (
    AlreadyRegistered,
    RegistrationPlan,
    RegistrationResult,
    registration_plan,
    registration_write,
)
from fairshare.rounds.models import Round

SHEET_LINES = 20
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed


@dataclass(frozen=True)
class SheetLine:
    """One line as written on the sheet (its number is its place in the list, from 1)."""

    room: str
    name: str
    phone: str
    time: str

    def blank(self) -> bool:
        return not (self.room.strip() or self.name.strip() or self.phone.strip())


class SheetRejected(FieldErrors):
    """Some lines have errors: ``lines`` is {line number: {field: [message, ...]}}."""

    summary = _("The sheet was not entered: correct the marked lines, nothing was written.")

    def __init__(self, lines: dict[int, dict[str, list[str]]]) -> None:
        super().__init__(
            {f"{n}.{f}": ms for n, fields in lines.items() for f, ms in fields.items()}
        )
        self.lines = lines


def sheet_issue(
    *, round: Round, building: Building, actor: User, lines: int = SHEET_LINES
) -> BuildingSheet:
    """Record a printed sheet for ``building`` (its id goes into the sheet's header)."""
    require_committee_in_scope(
        actor, building.committee_id, message=_("You may only print your own committee's sheets.")
    )
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return BuildingSheet.objects.create(
        round=round,
        committee_id=building.committee_id,
        building=building,
        code=code,
        lines=lines,
        issued_by=actor,
    )


def parse_sheet_time(text: str) -> datetime | None:
    """ "HH:MM" (today) or "YYYY-MM-DD HH:MM" as written on the sheet; None if unreadable."""
    text = (text or "").strip().replace("：", ":")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%H:%M", "%H:%M:%S"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt.startswith("%H"):
            parsed = datetime.combine(timezone.localdate(), parsed.time())
        return timezone.make_aware(parsed)
    return None


def _plan_line(
    sheet: BuildingSheet, line: SheetLine, actor: User, seen: dict[int, int]
) -> tuple[RegistrationPlan | None, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    household = household_find(building=sheet.building, room=line.room.strip())
    if household is None:
        errors["room"] = [str(_("No such room in this building."))]
    elif household.pk in seen:
        errors["room"] = [str(_("This room is already on line %(n)s.") % {"n": seen[household.pk]})]
    written_at = parse_sheet_time(line.time)
    if written_at is None:
        errors["time"] = [str(_("Unreadable time (use HH:MM or YYYY-MM-DD HH:MM)."))]
    if household is None or "room" in errors:
        return None, errors
    try:
        plan = registration_plan(
            round=sheet.round,
            household=household,
            name=line.name,
            phone=line.phone,
            channel=Channel.SHEET,
            actor=actor,
            written_at=written_at,
        )
    except FieldErrors as exc:
        for field, messages in exc.items():
            key = "time" if field == "written_at" else field
            errors.setdefault(key if key in ("name", "phone", "time") else "room", []).extend(
                str(m) for m in messages
            )
        return None, errors
    return (None if errors else plan), errors


def sheet_enter(
    *, sheet: BuildingSheet, lines: list[SheetLine], actor: User
) -> list[tuple[int, RegistrationResult]]:
    """Enter a collected sheet whole; (line number, result) per written line, in order.

    ``SheetRejected`` when any line is wrong (nothing written); ``Conflict`` when the
    sheet was entered already."""
    require_committee_in_scope(
        actor, sheet.committee_id, message=_("You may only enter your own committee's sheets.")
    )
    plans: list[tuple[int, RegistrationPlan]] = []
    rejected: dict[int, dict[str, list[str]]] = {}
    seen: dict[int, int] = {}
    for number, line in enumerate(lines, 1):
        if line.blank():
            continue
        plan, errors = _plan_line(sheet, line, actor, seen)
        if plan is not None:
            seen[plan.household.pk] = number
            plans.append((number, plan))
        if errors:
            rejected[number] = errors
    if rejected:
        raise SheetRejected(rejected)
    if not plans:
        raise SheetRejected({1: {"room": [str(_("The sheet has no filled-in line."))]}})
    return _write(sheet, plans, actor)


def _write(
    sheet: BuildingSheet, plans: list[tuple[int, RegistrationPlan]], actor: User
) -> list[tuple[int, RegistrationResult]]:
    written: list[tuple[int, RegistrationResult]] = []
    with write_transaction():
        # The queue lock first, held for the whole sheet: its lines are consecutive.
        queue.counter_lock(round_id=sheet.round_id, committee_id=sheet.committee_id)
        marked = BuildingSheet.objects.filter(pk=sheet.pk, entered_at__isnull=True).update(
            entered_at=timezone.now(),
            entered_by=actor,
            entered_count=F("entered_count") + len(plans),
        )
        if not marked:
            raise Conflict(_("This sheet was entered already."), code="sheet_entered")
        for number, plan in plans:
            try:
                written.append((number, registration_write(plan)))
            except AlreadyRegistered as exc:
                # Raised out of the transaction: the whole sheet is rolled back.
                raise SheetRejected({number: {"name": [str(exc.message)]}}) from exc
    sheet.refresh_from_db()
    return written
