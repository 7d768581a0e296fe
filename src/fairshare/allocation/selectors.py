"""Reads of supply, vouchers and notifications, with role scoping (staff see only their own
area; see ``accounts/scoping.py``)."""

from __future__ import annotations

import json
from datetime import date as Date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.permissions import Viewer, may_allocate, may_declare_supply
from fairshare.accounts.scoping import pharmacy_scope_q, require_committee_in_scope, scoped
from fairshare.allocation.lottery import draw_key, seed_matches
from fairshare.allocation.models import Requeue, SupplyDay, SupplyDeclaration, Voucher
from fairshare.allocation.notify import voucher_qr_svg  # noqa: F401  (public selector)
from fairshare.allocation.resident_state import resident_state
from fairshare.allocation.tokens import code_normalize
from fairshare.community.models import Committee, Pharmacy
from fairshare.core.errors import NotFound
from fairshare.core.models import OutboxMessage
from fairshare.registration.models import OFFLINE_CHANNELS, LedgerEntry, Registration
from fairshare.rounds.models import Round


def pharmacy_get(*, code: str) -> Pharmacy:
    pharmacy = Pharmacy.objects.select_related("subdistrict").filter(code=code).first()
    if pharmacy is None:
        raise NotFound(_("Unknown pharmacy."), code="unknown_pharmacy")
    return pharmacy


def round_covering(*, pharmacy: Pharmacy, date: Date) -> Round | None:
    """The open round of the pharmacy's district whose purchase dates include ``date``."""
    return (
        Round.objects.filter(
            district_id=pharmacy.subdistrict.district_id,
            status=Round.Status.OPEN,
            valid_from__lte=date,
            valid_until__gte=date,
        )
        .order_by("-registration_opens_at", "id")
        .first()
    )


def open_rounds_exist(*, pharmacy: Pharmacy) -> bool:
    return Round.objects.filter(
        district_id=pharmacy.subdistrict.district_id, status=Round.Status.OPEN
    ).exists()


def supply_day_total(*, pharmacy: Pharmacy, date: Date) -> int:
    return (
        SupplyDay.objects.filter(pharmacy=pharmacy, date=date)
        .values_list("packs", flat=True)
        .first()
        or 0
    )


def supply_history(*, pharmacy: Pharmacy, date: Date) -> QuerySet[SupplyDeclaration]:
    return SupplyDeclaration.objects.filter(
        supply_day__pharmacy=pharmacy, supply_day__date=date
    ).order_by("declared_at", "id")


def vouchers_for_user(user: Viewer) -> QuerySet[Voucher]:
    """Vouchers the user may see: own committee/subdistrict/district, or own pharmacy."""
    return scoped(
        Voucher.objects.select_related("committee", "pharmacy", "declaration"),
        user,
        pharmacy_path="pharmacy",
    )


def committee_for_staff(*, user: Viewer, code: str) -> Committee:
    committee = Committee.objects.filter(code=code).select_related("pharmacy").first()
    if committee is None:
        raise NotFound(_("Unknown committee."), code="unknown_committee")
    require_committee_in_scope(
        user, committee.pk, message=_("This committee is outside your area.")
    )
    return committee


def committee_vouchers(*, committee: Committee, date: Date) -> QuerySet[Voucher]:
    """A committee's live vouchers of a day, in issue order (for slips and lists)."""
    return (
        Voucher.objects.filter(committee=committee, date=date, status__in=Voucher.LIVE_STATUSES)
        .select_related("registration", "household__building", "pharmacy", "declaration")
        .order_by("registration__queue_number")
    )


def notification_log(*, household_id: int) -> QuerySet[OutboxMessage]:
    """The messages sent (or queued) to one household, newest first."""
    return OutboxMessage.objects.filter(household_id=household_id).order_by("-created_at", "-id")


def lottery_verify(*, round: Round, seed: str | None = None) -> list[str]:
    """Re-check a lottery round; returns the problems found (empty: all is well).

    The seed must match the published commitment, and within each committee and
    channel group (offline/online: the offline reserve picks offline households by
    rank too) the households served so far must be exactly the best-ranked ones,
    ranks recomputed with ``lottery.draw_key`` from the seed and the public hashes of
    the registrations' "registered" links (``docs/ledger.md``, "The lottery").
    Households that went through an expiry requeue are left out of the check.
    """
    seed = (seed or round.lottery_seed or "").strip()
    if not seed_matches(seed, round.lottery_commitment):
        return ["seed does not match the published commitment"]
    requeued = set(Requeue.objects.filter(round=round).values_list("household_id", flat=True))
    served = set(Voucher.objects.filter(round=round).values_list("registration_id", flat=True))
    offline = {str(c) for c in OFFLINE_CHANNELS}
    groups: dict[tuple[str, bool], list[tuple[tuple[bool, str, int], bool]]] = {}
    links = LedgerEntry.objects.filter(round=round, kind=LedgerEntry.Kind.REGISTERED)
    rows = (
        links.exclude(registration__status=Registration.Status.VOID)
        .exclude(registration__household_id__in=requeued)
        .values_list(
            "registration_id", "committee__code", "registration__channel", "hash", "payload"
        )
    )
    for reg_id, committee, channel, link_hash, payload in rows:
        body = json.loads(payload)
        key = draw_key(
            seed,
            link_hash=link_hash,
            queue_number=body["queue_number"],
            carried=body.get("carried_from") is not None,
            carried_first=round.carried_first,
        )
        groups.setdefault((committee, channel in offline), []).append((key, reg_id in served))
    problems = []
    for (committee, is_offline), items in sorted(groups.items()):
        items.sort()
        flags = [done for _, done in items]
        first_waiting = flags.index(False) if False in flags else len(flags)
        if any(flags[first_waiting:]):
            group = "offline" if is_offline else "online"
            problems.append(f"{committee} ({group}): served out of lottery order")
    return problems


def voucher_for_committee_staff(*, user: Viewer, code: str) -> Voucher:
    """A voucher by its (typed) code, within the user's committees; 404 otherwise."""
    canonical = code_normalize(code)
    voucher: Voucher | None = None
    if canonical is not None:
        voucher = scoped(Voucher.objects.filter(code=canonical), user).first()
    if voucher is None:
        raise NotFound(_("Unknown voucher."), code="unknown_voucher")
    return voucher


def supply_pharmacies(*, user: Viewer) -> list[Pharmacy]:
    """Pharmacies whose supply the user may declare (own pharmacy, or those of the area)."""
    candidates = (
        Pharmacy.objects.filter(pharmacy_scope_q(user))
        .select_related("subdistrict")
        .distinct()
        .order_by("code")
    )
    return [p for p in candidates if may_declare_supply(user, p)]


def supply_recent(*, pharmacy: Pharmacy, days: int = 7) -> QuerySet[SupplyDeclaration]:
    """The pharmacy's declarations (current and superseded) from today on."""
    return (
        SupplyDeclaration.objects.filter(
            supply_day__pharmacy=pharmacy, supply_day__date__gte=timezone.localdate()
        )
        .select_related("supply_day", "superseded_by")
        .order_by("supply_day__date", "-declared_at")[: days * 5]
    )


def allocatable_rounds(*, user: Viewer) -> list[Round]:
    rounds = Round.objects.filter(status__in=[Round.Status.OPEN, Round.Status.CLOSED]).order_by(
        "-registration_opens_at"
    )
    return [r for r in rounds if may_allocate(user, r)]


def registration_voucher(registration: Registration) -> Voucher | None:
    """The live (issued or bought) voucher of a registration, if any."""
    return (
        Voucher.objects.select_related("pharmacy", "committee", "declaration")
        .filter(registration=registration, status__in=Voucher.LIVE_STATUSES)
        .order_by("-issued_at")
        .first()
    )


def registration_status_dict(registration: Registration) -> dict[str, Any]:
    """A registration's status and live voucher (the resident status page and API)."""
    voucher = registration_voucher(registration)
    voucher_out = None
    if voucher is not None:
        voucher_out = {
            "code": voucher.code,
            "pharmacy": voucher.pharmacy.name,
            "date": voucher.date,
            "slot_start": voucher.slot_start,
            "slot_end": voucher.slot_end,
            "status": voucher.status,
            "batch": {
                "manufacturer": voucher.declaration.manufacturer,
                "style": voucher.declaration.style,
                "unit_price": voucher.declaration.unit_price,
            },
        }
    return {
        "ticket": registration.ticket,
        "queue_number": registration.queue_number,
        "status": registration.status,
        "committee": registration.committee.code,
        "round": registration.round_id,
        "voucher": voucher_out,
        "state": resident_state(registration, voucher=voucher),
    }
