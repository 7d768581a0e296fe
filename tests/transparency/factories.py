"""A small committee with roster, registrations, vouchers and ledger links."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fairshare.registration.models import Registration
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    RegistrationFactory,
    RoundFactory,
    SupplyDeclarationFactory,
    VoucherFactory,
)
from tests.transparency.helpers import ledger_append_registered, ledger_append_voided


@dataclass
class BoardWorld:
    round: Any
    committee: Any
    buildings: list
    households: list
    registrations: list
    vouchers: dict = field(default_factory=dict)


def board_world(*, households_per_building: int = 8, buildings: int = 3) -> BoardWorld:
    committee = CommitteeFactory()
    rnd = RoundFactory(district=committee.subdistrict.district)
    blds = [BuildingFactory(committee=committee, label=f"{i + 1}号") for i in range(buildings)]
    hhs = []
    for b in blds:
        for j in range(households_per_building):
            hh = HouseholdFactory(building=b, room=f"{j // 2 + 1}0{j % 2 + 1}")
            MemberFactory(household=hh)
            MemberFactory(household=hh)
            hhs.append(hh)
    regs = []
    # Register all but the last two households of each building, in interleaved order.
    for i, hh in enumerate(hhs):
        if i % households_per_building >= households_per_building - 2:
            continue
        reg = RegistrationFactory(
            household=hh, round=rnd, channel=["online", "desk", "phone"][i % 3]
        )
        ledger_append_registered(reg)
        regs.append(reg)
    world = BoardWorld(rnd, committee, blds, hhs, regs)
    # Queue 1-3 bought, 4-5 voucher issued, the rest waiting; queue 6 voided as duplicate.
    decl = SupplyDeclarationFactory(supply_day__pharmacy=committee.pharmacy, packs=5)
    for reg in regs[:5]:
        v = VoucherFactory(registration=reg, declaration=decl)
        world.vouchers[reg.queue_number] = v
    from django.utils import timezone

    for reg in regs[:3]:
        v = world.vouchers[reg.queue_number]
        v.status = "redeemed"
        v.redeemed_at = timezone.now()
        v.save()
    if len(regs) > 5:
        dup = regs[5]
        Registration.objects.filter(pk=dup.pk).update(status="void", void_reason="duplicate")
        ledger_append_voided(dup)
    return world
