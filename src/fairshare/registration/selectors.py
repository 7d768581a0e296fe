"""Registration reads: status lookups, the public chain export, staff lists (scoped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.permissions import COMMITTEE, Viewer, has_role
from fairshare.accounts.scoping import scoped
from fairshare.community.models import Committee
from fairshare.core.errors import NotFound
from fairshare.core.masking import mask_name
from fairshare.registration.ledger import GENESIS, SUPERSEDED, registered_payload
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
from fairshare.registration.tickets import ticket_normalize
from fairshare.registration.validation import normalize_phone
from fairshare.rounds.models import Round


def ledger_at_iso(at: datetime) -> str:
    """The time as written into the chain: local time, whole seconds, with offset."""
    return timezone.localtime(at).replace(microsecond=0).isoformat()


def registered_payload_for(
    registration: Registration,
    *,
    seq: int,
    review: bool | None = None,
    carried_from: int | None = None,
) -> dict[str, Any]:
    """The public payload of a registration's "registered" link (also used to re-check it).

    ``review`` defaults to the row's status now (pending review: true), which is the
    status at registration when the link is written; ``verify.py`` passes the value it
    re-derives (its docstring). ``carried_from``: the round a carry-over brought it from.
    """
    written = registration.written_at
    return registered_payload(
        seq=seq,
        queue_number=registration.queue_number,
        masked_name=mask_name(registration.name),
        building=registration.household.building.label,
        room=registration.household.room,
        channel=registration.channel,
        at_iso=ledger_at_iso(registration.acknowledged_at),
        review=(
            registration.status == Registration.Status.PENDING_REVIEW if review is None else review
        ),
        written_at_iso=ledger_at_iso(written) if written is not None else None,
        carried_from=carried_from,
    )


def ledger_export(*, round: Round, committee: Committee) -> dict[str, Any]:
    """The chain of one (round, committee) in the public board's JSON shape.

    ``{"round": id, "committee": code, "head_hash": ..., "links": [{"seq", "payload",
    "prev_hash", "hash"}, ...]}``; ``fairshare verify_ledger --file`` checks it offline.
    """
    links = [
        {"seq": e.seq, "payload": e.payload, "prev_hash": e.prev_hash, "hash": e.hash}
        for e in LedgerEntry.objects.filter(round=round, committee=committee).order_by("seq")
    ]
    return {
        "round": round.pk,
        "committee": committee.code,
        "head_hash": links[-1]["hash"] if links else GENESIS,
        "links": links,
    }


def _not_found() -> NotFound:
    # One answer for an unknown ticket and a wrong phone, so neither can be probed.
    return NotFound(_("No registration matches this ticket and phone number."), code="not_found")


def registration_lookup(*, ticket: str, phone: str) -> Registration:
    """The registration of ``ticket`` if ``phone`` is its phone; NotFound otherwise."""
    canonical_ticket = ticket_normalize(ticket)
    canonical_phone = normalize_phone(phone)
    if canonical_ticket is None or canonical_phone is None:
        raise _not_found()
    registration = (
        Registration.objects.select_related("round", "committee", "household__building")
        .filter(ticket=canonical_ticket, phone=canonical_phone)
        .first()
    )
    if registration is None:
        raise _not_found()
    return registration


def staff_registrations(*, user: Viewer) -> QuerySet[Registration]:
    """Registrations the user may see (own committee / subdistrict / district)."""
    return scoped(
        Registration.objects.select_related("round", "committee", "household__building"), user
    )


def photo_registrations(*, user: Viewer) -> QuerySet[Registration]:
    """Registrations whose uploaded photo the user may see: only staff of the committee
    (committee users and helpers assigned to it), not subdistrict or district admins
    (issues 3 and 7: photos are visible only to that committee's staff)."""
    if not has_role(user, COMMITTEE):
        return Registration.objects.none()
    return staff_registrations(user=user)


def review_queue(*, user: Viewer, round: Round | None = None) -> QuerySet[Registration]:
    qs = staff_registrations(user=user).filter(status=Registration.Status.PENDING_REVIEW)
    if round is not None:
        qs = qs.filter(round=round)
    return qs.order_by("round", "committee", "queue_number")


def review_superseded(*, user: Viewer, round: Round | None = None) -> QuerySet[Registration]:
    """Pending registrations superseded by their household's roster-matching one
    (``registration/supersede.py``), newest first, for staff to look at."""
    qs = staff_registrations(user=user).filter(
        status=Registration.Status.VOID, void_reason=SUPERSEDED
    )
    if round is not None:
        qs = qs.filter(round=round)
    return qs.order_by("-round", "committee", "-queue_number")


def queue_head(*, round: Round, committee: Committee) -> QueueCounter | None:
    return QueueCounter.objects.filter(round=round, committee=committee).first()
