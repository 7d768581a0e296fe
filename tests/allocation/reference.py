"""The previous, row-by-row allocation planner, kept as the reference for the SQL one.

Given the database state before a run, ``expected_picks`` returns what the engine
before the set-based rewrite issued, in issue order: candidates read in Python,
``planning.largest_remainder`` across committees, ``planning.committee_pick`` within
each, then pickup slots filled in order (delivery households take none). The
property test in ``test_setbased.py`` compares the SQL engine's vouchers with it.
"""

from __future__ import annotations

from datetime import time

from django.db.models import Q, Sum

from fairshare.allocation import planning
from fairshare.allocation.engine import _slot_plan, waiting_registrations
from fairshare.allocation.models import Requeue, SupplyDay, SupplyDeclaration, Voucher
from fairshare.community.models import Committee, Member, Pharmacy
from fairshare.registration.models import OFFLINE_CHANNELS
from fairshare.rounds.models import Round

_OFFLINE = {str(c) for c in OFFLINE_CHANNELS}


def _candidates(round: Round, committee_ids: list[int]) -> list[planning.Candidate]:
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
    return [
        planning.Candidate(
            registration_id=r[0],
            household_id=r[1],
            committee_id=r[2],
            queue_number=r[3],
            ticket=r[4],
            offline=r[5] in _OFFLINE,
            building=(r[6], r[7], r[8]),
            priority=requeued.get(r[1]),
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
    per_committee: dict[int, list[planning.Candidate]] = {c.id: [] for c in committees}
    for cand in candidates:
        per_committee[cand.committee_id].append(cand)
    quotas = planning.largest_remainder(
        households, [(c.id, len(per_committee[c.id])) for c in committees]
    )
    picks: list[planning.Candidate] = []
    for c in committees:
        picks.extend(
            planning.committee_pick(
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
