"""A replayed round checked by an outsider: the public exports and docs/ledger.md alone.

About 2,000 households in three rounds, one per policy: first come first served with an
offline reserve, per building, and a lottery that draws the households carried over
from the first round before the others. Reviews are approved mid-round, vouchers are
bought, expire and are requeued, a pharmacy's delivery falls short, and the first
round's unserved are carried into the lottery round. Every committee's chain is then
fetched from the public export endpoint and run through the doc's chain verifier and
order checker (extracted from the doc by ``test_ledger_doc``): they pass. Then an
ordering bug is injected into the engine (its policy key reversed) and the order
checker catches that run from its export.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from fairshare.allocation import engine, setbased
from fairshare.allocation.carryover import carry_over_run
from fairshare.allocation.chain import ledger_redeemed_flush
from fairshare.allocation.lottery import commitment_of
from fairshare.allocation.models import Voucher
from fairshare.allocation.services import allocation_run, voucher_expire_due
from fairshare.allocation.shortfall import supply_shortfall
from fairshare.pharmacy.models import Channel as SaleChannel
from fairshare.pharmacy.services import redemption_apply
from fairshare.registration.models import Registration
from fairshare.registration.services import registration_approve
from fairshare.rounds.models import Round
from tests.allocation.factories import Entry, queue_build, supply_set
from tests.factories import CommitteeFactory, PharmacyFactory, RoundFactory, UserFactory
from tests.registration.test_ledger_doc import check_order, verify_chain

pytestmark = pytest.mark.django_db

SEED = "5eed" * 16


@pytest.fixture(autouse=True)
def _morning(monkeypatch):
    """As if it were 07:00 on the first day, so every pickup slot is still ahead."""
    moment = timezone.make_aware(datetime.combine(timezone.localdate(), time(7, 0)))
    monkeypatch.setattr(engine, "_local_now", lambda: moment)


def _entries(n: int, *, pending_every: int = 0, buildings: int = 1) -> list[Entry]:
    """A queue with every fifth household offline (desk, phone, sheet, photo in turn)."""
    offline = ["desk", "phone", "sheet", "photo"]
    return [
        Entry(
            channel=offline[(i // 5) % 4] if i % 5 == 4 else "online",
            status="pending_review" if pending_every and i % pending_every == 3 else "verified",
            building=i % buildings,
        )
        for i in range(n)
    ]


def _world():
    """Two subdistricts: S1 (committees A1, A2 at pharmacy P1) runs the FCFS round and
    then the lottery round that carries its unserved; S2 (B1, B2 at P2) per building."""
    p1, p2 = PharmacyFactory(), PharmacyFactory()
    a = [CommitteeFactory(code=f"A{i}", subdistrict=p1.subdistrict, pharmacy=p1) for i in (1, 2)]
    b = [CommitteeFactory(code=f"B{i}", subdistrict=p2.subdistrict, pharmacy=p2) for i in (1, 2)]
    district = p1.subdistrict.district
    fcfs = RoundFactory(district=district, subdistrict=p1.subdistrict, offline_reserve_pct=20)
    building = RoundFactory(
        district=district, subdistrict=p2.subdistrict, policy="per_building", offline_reserve_pct=10
    )
    return p1, p2, a, b, fcfs, building


def _export(client, round_: Round, code: str) -> dict:
    response = client.get(f"/api/v1/public/rounds/{round_.pk}/committees/{code}/export")
    assert response.status_code == 200
    return response.json()


def _payloads(export: dict) -> list[dict]:
    return [json.loads(link["payload"]) for link in export["links"]]


def _approve_some(round_: Round, committee, user, n: int) -> None:
    pending = Registration.objects.filter(
        round=round_, committee=committee, status="pending_review"
    ).order_by("queue_number")[:n]
    for registration in pending:
        registration_approve(registration=registration, actor=user)


def _buy(day, pharmacy, n: int) -> None:
    """The first ``n`` vouchers of the day are bought at the till, then the batch link."""
    at = timezone.make_aware(datetime.combine(day, time(10, 0)))
    for voucher in Voucher.objects.filter(date=day, pharmacy=pharmacy).order_by("id")[:n]:
        redemption_apply(
            voucher=voucher, pharmacy=pharmacy, actor=None, at=at, channel=SaleChannel.ONLINE
        )
    ledger_redeemed_flush()


def _replay(client, today):
    p1, p2, a, b, fcfs, building = _world()
    staff = UserFactory(role="subdistrict", subdistrict=p1.subdistrict)
    staff2 = UserFactory(role="subdistrict", subdistrict=p2.subdistrict)
    for committee in a:
        queue_build(round=fcfs, committee=committee, entries=_entries(450, pending_every=20))
    for committee in b:
        queue_build(
            round=building,
            committee=committee,
            entries=_entries(400, pending_every=25, buildings=6),
        )
    days = [today + timedelta(days=i) for i in range(4)]
    # Day 1: both pharmacies issue; reviews are approved after the run.
    supply_set(pharmacy=p1, date=days[0], packs=300)
    supply_set(pharmacy=p2, date=days[0], packs=260)
    allocation_run(round=fcfs, date=days[0])
    allocation_run(round=building, date=days[0])
    for committee in a:
        _approve_some(fcfs, committee, staff, 8)
    for committee in b:
        _approve_some(building, committee, staff2, 6)
    _buy(days[0], p1, 200)
    _buy(days[0], p2, 150)
    # Day 2: the unbought vouchers of day 1 expired (requeued once), more supply.
    assert voucher_expire_due(today=days[1]) > 0
    supply_set(pharmacy=p1, date=days[1], packs=250)
    supply_set(pharmacy=p2, date=days[1], packs=240)
    allocation_run(round=fcfs, date=days[1])
    allocation_run(round=building, date=days[1])
    # P1's delivery for day 2 falls short: the latest vouchers go back to the head.
    assert supply_shortfall(pharmacy=p1, date=days[1], packs=200, actor=None).cancelled == 50
    _buy(days[1], p1, 120)
    # Day 3: the requeued (expired and cancelled) first, then the queue.
    supply_set(pharmacy=p1, date=days[2], packs=180)
    supply_set(pharmacy=p2, date=days[2], packs=120)
    allocation_run(round=fcfs, date=days[2])
    allocation_run(round=building, date=days[2])
    # The FCFS round's unserved are carried into a lottery round (carried ones first).
    lottery = RoundFactory(
        district=fcfs.district,
        subdistrict=p1.subdistrict,
        policy="lottery",
        carry_over_from=fcfs,
        carried_first=True,
        lottery_seed=SEED,
        lottery_commitment=commitment_of(SEED),
    )
    assert carry_over_run(round=lottery)["total"] > 0
    for committee in a:
        queue_build(round=lottery, committee=committee, entries=_entries(100))
    supply_set(pharmacy=p1, date=days[3], packs=220)
    allocation_run(round=lottery, date=days[3])
    return {"fcfs": (fcfs, a), "per_building": (building, b), "lottery": (lottery, a)}, days, p1


def test_replayed_round_verifies_from_the_public_exports(client):
    rounds, days, p1 = _replay(client, timezone.localdate())
    households = Registration.objects.exclude(round=rounds["lottery"][0]).count()
    assert 1_900 <= households + 200 <= 2_200
    seen: set[str] = set()
    runs: list[dict] = []
    for _policy, (round_, committees) in rounds.items():
        for committee in committees:
            export = _export(client, round_, committee.code)
            assert verify_chain(export) is None, (round_.policy, committee.code)
            assert check_order(export) == [], (round_.policy, committee.code)
            seen |= {p["kind"] for p in _payloads(export)}
            runs += [p for p in _payloads(export) if p["kind"] == "allocation"]
    # Every class and input was exercised: requeued, reserve, building shares, the draw.
    assert any(r["requeued"] and r["policy"] == "fcfs" for r in runs)
    assert any(r["reserve"] for r in runs) and any(r["buildings"] for r in runs)
    assert any(r["policy"] == "lottery" and r["carried_first"] and r["seed"] for r in runs)
    assert seen >= {
        "registered",
        "approved",
        "allocation",
        "redeemed",
        "expired",
        "shortfall",
        "carried",
    }

    # An ordering bug in the engine (the policy key reversed) is caught from the export.
    real = setbased._ranked

    def reversed_key(**kwargs):
        query = real(**kwargs)
        assert "ORDER BY pk ROWS" in query.ctes
        query.ctes = query.ctes.replace("ORDER BY pk ROWS", "ORDER BY pk DESC ROWS")
        return query

    lottery, committees = rounds["lottery"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(setbased, "_ranked", reversed_key)
        supply_set(pharmacy=p1, date=days[3] + timedelta(days=1), packs=40)
        allocation_run(round=lottery, date=days[3] + timedelta(days=1))
    for committee in committees:
        export = _export(client, lottery, committee.code)
        assert verify_chain(export) is None  # the chain itself is intact
        problems = check_order(export)
        assert problems and "served" in problems[-1], committee.code
