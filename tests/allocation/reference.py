"""The previous, row-by-row allocation planner, kept as the reference for the SQL one.

Given the database state before a run, ``expected_picks`` returns what the engine
before the set-based rewrite issued, in issue order: candidates read in Python,
``planning.largest_remainder`` across committees, ``committee_pick`` within each,
then pickup slots filled in order (delivery households take none). The property
test in ``test_setbased.py`` compares the SQL engine's vouchers with it.

Also here, as plain Python statements of what the product computes in SQL:
``committee_pick`` (the order within a committee), ``voucher_sms_payload`` (the SMS the
engine assembles with ``setbased.insert_sms``) and ``lottery_order`` (the lottery
order from ``lottery.rank_key`` over the registrations' public link hashes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time

from django.db.models import Q, Sum

from fairshare.allocation import planning
from fairshare.allocation.bulk import IssuedVoucher
from fairshare.allocation.engine import _slot_plan
from fairshare.allocation.lottery import rank_key
from fairshare.allocation.models import (
    Requeue,
    SupplyDay,
    SupplyDeclaration,
    Voucher,
)
from fairshare.allocation.notify import sms_parts
from fairshare.allocation.tokens import code_display
from fairshare.allocation.waiting import waiting_registrations
from fairshare.community.models import Committee, Member, Pharmacy
from fairshare.core.sms import sms_render
from fairshare.registration.models import OFFLINE_CHANNELS, LedgerEntry, Registration
from fairshare.rounds.models import Round

_OFFLINE = {str(c) for c in OFFLINE_CHANNELS}


@dataclass(frozen=True, slots=True)
class Candidate:
    registration_id: int
    household_id: int
    committee_id: int
    queue_number: int
    ticket: str
    offline: bool
    building: tuple  # (sort_order, label, building_id): the building's sort key
    priority: tuple | None = None  # requeue order key; None when not requeued
    link_hash: str = ""  # hash of its "registered" link (the lottery's public input)
    phone: str = ""


def link_hashes(registration_ids: Iterable[int]) -> dict[int, str]:
    """Registration id → the hash of its "registered" link (the public lottery input)."""
    return dict(
        LedgerEntry.objects.filter(
            registration_id__in=list(registration_ids), kind=LedgerEntry.Kind.REGISTERED
        ).values_list("registration_id", "hash")
    )


def lottery_rank(seed: str, registration: Registration) -> str:
    """The registration's lottery rank key, from its public "registered" link."""
    return rank_key(seed, link_hashes([registration.pk])[registration.pk])


def lottery_order(seed: str, registrations: Iterable[Registration]) -> list[Registration]:
    """The registrations in lottery order (best rank first; ties by queue number)."""
    regs = list(registrations)
    links = link_hashes(r.pk for r in regs)
    return sorted(regs, key=lambda r: (rank_key(seed, links[r.pk]), r.queue_number))


def policy_sorted(candidates: Sequence[Candidate], policy: str, seed: str = "") -> list[Candidate]:
    if policy == Round.Policy.LOTTERY:
        return sorted(candidates, key=lambda c: (rank_key(seed, c.link_hash), c.queue_number))
    return sorted(candidates, key=lambda c: c.queue_number)


def committee_pick(
    candidates: Sequence[Candidate],
    quota: int,
    *,
    policy: str,
    reserve_pct: int = 0,
    seed: str = "",
) -> list[Candidate]:
    """The ``quota`` candidates of one committee to serve now, in issue order: requeued
    households first (in the order their vouchers expired), then the offline reserve
    (the earliest offline-channel registrations in policy order), then the round's
    policy order for the rest."""
    if quota <= 0:
        return []
    requeued = sorted(
        (c for c in candidates if c.priority is not None), key=lambda c: c.priority or ()
    )
    picked = requeued[:quota]
    rest = [c for c in candidates if c.priority is None]
    left = quota - len(picked)
    reserve = min(quota * reserve_pct // 100, left)
    offline = policy_sorted([c for c in rest if c.offline], policy, seed)
    reserved = offline[:reserve]
    picked.extend(reserved)
    left -= len(reserved)
    taken = {c.registration_id for c in reserved}
    pool = [c for c in rest if c.registration_id not in taken]
    if left <= 0:
        return picked
    if policy == Round.Policy.PER_BUILDING:
        groups: dict[tuple, list[Candidate]] = {}
        for c in sorted(pool, key=lambda c: c.queue_number):
            groups.setdefault(c.building, []).append(c)
        keys = sorted(groups)
        shares = planning.even_split(left, [(key, len(groups[key])) for key in keys])
        chosen = [c for key in keys for c in groups[key][: shares[key]]]
        picked.extend(sorted(chosen, key=lambda c: c.queue_number))
    else:
        picked.extend(policy_sorted(pool, policy, seed)[:left])
    return picked


def voucher_sms_text(
    voucher: Voucher | IssuedVoucher, *, pharmacy: Pharmacy, declaration: SupplyDeclaration
) -> str:
    """The SMS text for one voucher (pharmacy, date, slot, batch, price, code)."""
    return sms_render(voucher_sms_payload(voucher, pharmacy=pharmacy, declaration=declaration))


def voucher_sms_payload(
    voucher: Voucher | IssuedVoucher, *, pharmacy: Pharmacy, declaration: SupplyDeclaration
) -> dict[str, object]:
    """The "voucher" SMS payload (core/sms.py) the engine writes for one voucher."""
    parts = sms_parts(
        pharmacy=pharmacy,
        declaration=declaration,
        on=voucher.date,
        until=voucher.valid_until,
        packs=voucher.packs,
    )
    if voucher.fulfilment == Voucher.Fulfilment.DELIVERY:
        when = parts["delivery"]
    elif voucher.slot_start is not None and voucher.slot_end is not None:
        when = (
            f"{parts['slot_before']}{voucher.slot_start:%H:%M}-{voucher.slot_end:%H:%M}"
            f"{parts['slot_after']}"
        )
    else:
        when = parts["anytime"]
    variables = {"code": code_display(voucher.code), "when": when, **parts["fixed"]}
    phone = getattr(voucher, "phone", None) or voucher.registration.phone
    return {"phone": phone, "kind": "voucher", "vars": variables, "lang": parts["lang"]}


def _candidates(round: Round, committee_ids: list[int]) -> list[Candidate]:
    requeued = {
        household_id: (created_at, pk)
        for household_id, created_at, pk in Requeue.objects.filter(
            round=round,
            outcome=Requeue.Outcome.REQUEUED,
            household__committee_id__in=committee_ids,
        ).values_list("household_id", "created_at", "id")
    }
    rows = (
        waiting_registrations(round=round, committee_ids=committee_ids)
        .order_by("committee_id", "queue_number")
        .values_list(
            "id",
            "household_id",
            "committee_id",
            "queue_number",
            "ticket",
            "channel",
            "household__building__sort_order",
            "household__building__label",
            "household__building_id",
        )
    )
    links = link_hashes(r[0] for r in rows)
    return [
        Candidate(
            registration_id=r[0],
            household_id=r[1],
            committee_id=r[2],
            queue_number=r[3],
            ticket=r[4],
            offline=r[5] in _OFFLINE,
            building=(r[6], r[7], r[8]),
            priority=requeued.get(r[1]),
            link_hash=links.get(r[0], ""),
        )
        for r in rows
    ]


def expected_picks(
    *, round: Round, pharmacy: Pharmacy, date
) -> list[tuple[int, str, time | None, time | None]]:
    """(registration id, fulfilment, slot start, slot end) in issue order."""
    committees = list(
        Committee.objects.filter(
            subdistrict__district_id=round.district_id, pharmacy=pharmacy
        ).order_by("code")
    )
    day = SupplyDay.objects.get(pharmacy=pharmacy, date=date)
    used = (
        Voucher.objects.filter(supply_day=day, status__in=Voucher.LIVE_STATUSES).aggregate(
            n=Sum("packs")
        )["n"]
        or 0
    )
    declared = SupplyDeclaration.objects.filter(supply_day=day, superseded_by__isnull=True).exists()
    households = max(0, day.packs - used) // round.packs_per_household if declared else 0
    candidates = _candidates(round, [c.id for c in committees])
    per_committee: dict[int, list[Candidate]] = {c.id: [] for c in committees}
    for cand in candidates:
        per_committee[cand.committee_id].append(cand)
    quotas = planning.largest_remainder(
        households, [(c.id, len(per_committee[c.id])) for c in committees]
    )
    picks: list[Candidate] = []
    for c in committees:
        picks.extend(
            committee_pick(
                per_committee[c.id],
                quotas[c.id],
                policy=round.policy,
                reserve_pct=round.offline_reserve_pct,
                seed=round.lottery_seed,
            )
        )
    flagged = set(
        Member.objects.filter(household__committee_id__in=[c.id for c in committees])
        .filter(Q(lives_alone=True) | Q(mobility_impaired=True))
        .values_list("household_id", flat=True)
    )
    slots = _slot_plan(pharmacy, day)
    out = []
    index = 0
    for pick in picks:
        if pick.household_id in flagged:
            out.append((pick.registration_id, "delivery", None, None))
            continue
        while index < len(slots) and slots[index][2] <= 0:
            index += 1
        start = end = None
        if index < len(slots):
            start, end = slots[index][0], slots[index][1]
            slots[index][2] -= 1
        out.append((pick.registration_id, "pickup", start, end))
    return out
