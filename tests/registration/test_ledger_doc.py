"""docs/ledger.md's programs, run as an outsider would: extracted from the doc and exec'd.

The chain verifier and the order checker are plain Python in fenced blocks marked
``# ledger-doc: <name>``; this test runs them on synthetic exports built with the
service's own payload builders (``registration/ledger.py``), so the doc, the builders
and the checker cannot drift apart.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from fairshare.allocation.lottery import draw_key
from fairshare.registration import ledger
from fairshare.registration import ledger_order as order_module
from fairshare.registration.ledger import canonical, link_hash

DOC = Path(__file__).resolve().parents[2] / "docs" / "ledger.md"
AT = "2020-02-02T09:00:00+08:00"
LIMITS = {"verify_chain": 40, "check_order": 120}


def doc_blocks() -> dict[str, str]:
    """The doc's marked Python blocks by name."""
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"```python\n(# ledger-doc: (\w+)\n.*?)```", text, flags=re.S)
    return {name: body for body, name in found}


def doc_program(name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(doc_blocks()[name], f"docs/ledger.md:{name}", "exec"), namespace)
    return namespace


verify_chain = doc_program("verify_chain")["verify_chain"]
check_order = doc_program("check_order")["check_order"]
lottery_ranks = doc_program("lottery_ranks")["lottery_ranks"]

# --- synthetic chains built with the service's payload builders -----------------------

Step = Callable[[int], dict[str, Any]]


def export_of(steps: list[Step]) -> dict[str, Any]:
    """An export (the API's shape) of the links the steps build, hashed as the service does."""
    prev, links = ledger.GENESIS, []
    for seq, step in enumerate(steps, start=1):
        text = canonical(step(seq))
        links.append(
            {"seq": seq, "payload": text, "prev_hash": prev, "hash": link_hash(prev, text)}
        )
        prev = links[-1]["hash"]
    return {"round": 1, "committee": "KJ01", "head_hash": prev, "links": links}


def rehashed(export: dict[str, Any]) -> dict[str, Any]:
    """The export with every link re-hashed (a forger who rewrites the whole chain)."""
    payloads = [json.loads(link["payload"]) for link in export["links"]]
    return export_of([lambda seq, p=p: p for p in payloads])


def reg(qn: int, building: str, room: str, channel: str = "online", **extra: Any) -> Step:
    return lambda seq: ledger.registered_payload(
        seq=seq,
        queue_number=qn,
        masked_name="张*",
        building=building,
        room=room,
        channel=channel,
        at_iso=AT,
        **extra,
    )


def alloc(policy: str, served: list[int], counts: tuple[int, int, int], **inputs: Any) -> Step:
    requeued, reserve, general = counts
    return lambda seq: ledger.allocation_payload(
        seq=seq,
        run=seq,
        pharmacy="P01",
        day="2020-02-03",
        policy=policy,
        reserve_pct=inputs.get("reserve_pct", 0),
        quota=requeued + reserve + general,
        requeued=requeued,
        reserve=reserve,
        general=general,
        buildings=inputs.get("buildings"),
        seed=inputs.get("seed"),
        carried_first=inputs.get("carried_first", False),
        served=[[qn, "pickup", "09:00"] for qn in served],
        at_iso=AT,
    )


def fcfs_steps(first_run: list[int]) -> list[Step]:
    """FCFS with a 50 % offline reserve, a review, a void, expiries, a shortfall and a
    carry-over; ``first_run`` is what the first allocation served."""
    return [
        reg(1, "1", "101"),
        reg(2, "1", "102"),
        reg(3, "1", "103", "desk"),
        reg(4, "1", "104", review=True),
        reg(5, "2", "201"),
        reg(6, "2", "202", "phone"),
        reg(7, "2", "203"),
        reg(8, "2", "204"),
        lambda seq: ledger.voided_payload(seq=seq, queue_number=7, reason="staff", at_iso=AT),
        # quota 4: reserve min(4 * 50 // 100, 4, 2 offline) = 2 → 3, 6; general 1, 2 (4 held)
        alloc("fcfs", first_run, (0, 2, 2), reserve_pct=50),
        lambda seq: ledger.approved_payload(seq=seq, queue_number=4, at_iso=AT),
        lambda seq: ledger.expired_payload(
            seq=seq, entries=[[3, "requeued"], [1, "dropped"]], at_iso=AT
        ),
        lambda seq: ledger.redeemed_payload(seq=seq, queue_numbers=[6, 2], at_iso=AT),
        # requeued 3 first; no offline one left for the reserve; then 4 (approved), 5
        alloc("fcfs", [3, 4, 5], (1, 0, 2), reserve_pct=50),
        lambda seq: ledger.shortfall_payload(
            seq=seq, pharmacy="P01", day="2020-02-03", packs=2, cancelled=[5], at_iso=AT
        ),
        alloc("fcfs", [5, 8], (1, 0, 1), reserve_pct=50),
        lambda seq: ledger.carried_payload(seq=seq, to_round=2, queue_numbers=[], at_iso=AT),
    ]


GOOD_FIRST_RUN = [3, 6, 1, 2]


def test_good_export_passes_both_programs():
    export = export_of(fcfs_steps(GOOD_FIRST_RUN))
    assert verify_chain(export) is None
    assert ledger.verify_chain(export["links"])[1] is None  # the service agrees
    assert check_order(export) == []


def test_tampered_export_fails_the_chain_verifier():
    export = export_of(fcfs_steps(GOOD_FIRST_RUN))
    changed = copy.deepcopy(export)
    body = json.loads(changed["links"][4]["payload"])
    body["building"] = "9"  # a household moved to another building
    changed["links"][4]["payload"] = canonical(body)
    assert "link 5" in verify_chain(changed)
    removed = copy.deepcopy(export)
    del removed["links"][2]  # a link taken out
    assert verify_chain(removed) is not None
    moved = copy.deepcopy(export)
    moved["head_hash"] = moved["links"][-2]["hash"]  # a head that hides the last link
    assert verify_chain(moved) is not None


def test_later_household_served_instead_fails_the_order_checker():
    # 5 served in the place of 2 (earlier, waiting), the chain re-hashed so it verifies.
    forged = rehashed(export_of(fcfs_steps([3, 6, 1, 5])))
    assert verify_chain(forged) is None
    problems = check_order(forged)
    assert problems and problems[0].startswith("link 10: served [5] where [2]")


def test_held_review_and_wrong_class_sizes_are_caught():
    # The pending registration 4 served before its approval.
    assert check_order(export_of(fcfs_steps([3, 6, 1, 4]))) != []
    # No reserve although the round keeps one: the class sizes are wrong.
    steps = fcfs_steps(GOOD_FIRST_RUN)
    steps[9] = alloc("fcfs", [1, 2, 3, 5], (0, 0, 4), reserve_pct=50)
    assert any("class sizes" in p for p in check_order(export_of(steps)))
    # Serving after the carry-over.
    steps = [*fcfs_steps(GOOD_FIRST_RUN), alloc("fcfs", [], (0, 0, 0))]
    assert check_order(export_of(steps)) == []  # an empty run is fine
    steps[-1] = alloc("fcfs", [8], (0, 0, 1))  # 8 was served already: nobody waits
    assert check_order(export_of(steps)) != []


def per_building_steps(shares: dict[str, int], served: list[int]) -> list[Step]:
    rooms = [("A", "1"), ("A", "2"), ("A", "3"), ("B", "1"), ("B", "2"), ("C", "1")]
    steps = [reg(i, b, r) for i, (b, r) in enumerate(rooms, start=1)]
    return [*steps, alloc("per_building", served, (0, 0, 4), buildings=shares)]


def test_per_building_shares():
    good = export_of(per_building_steps({"A": 2, "B": 1, "C": 1}, [1, 2, 4, 6]))
    assert check_order(good) == []
    # The shares must be an even split of the waiting ones per building.
    assert check_order(export_of(per_building_steps({"A": 3, "B": 1}, [1, 2, 3, 4]))) != []
    # A building's later household instead of its earlier one.
    assert check_order(export_of(per_building_steps({"A": 2, "B": 1, "C": 1}, [1, 3, 4, 6])))


def lottery_steps(seed: str, served: list[int], carried_first: bool) -> list[Step]:
    steps = [reg(1, "1", "1", carried_from=9), reg(2, "1", "2", carried_from=9)]
    steps += [reg(i, "1", str(i)) for i in range(3, 9)]
    return [*steps, alloc("lottery", served, (0, 0, 4), seed=seed, carried_first=carried_first)]


@pytest.mark.parametrize("carried_first", [False, True])
def test_lottery_ranks_from_the_export_and_the_seed(carried_first):
    seed = "c0ffee" * 8
    registered = export_of(lottery_steps(seed, [], carried_first))
    ranks = lottery_ranks(registered, seed, carried_first)
    # The doc's few lines and the engine's key agree.
    links = [(json.loads(x["payload"]), x["hash"]) for x in registered["links"][:8]]
    engine = sorted(
        links,
        key=lambda item: draw_key(
            seed,
            link_hash=item[1],
            queue_number=item[0]["queue_number"],
            carried=item[0]["carried_from"] is not None,
            carried_first=carried_first,
        ),
    )
    assert ranks == [p["queue_number"] for p, _ in engine]
    if carried_first:
        assert set(ranks[:2]) == {1, 2}
    assert check_order(export_of(lottery_steps(seed, ranks[:4], carried_first))) == []
    assert check_order(export_of(lottery_steps(seed, ranks[1:5], carried_first))) != []


def test_programs_stay_short_and_the_service_runs_the_documented_checker():
    blocks = doc_blocks()
    counts = {name: len(blocks[name].splitlines()) for name in LIMITS}
    assert all(counts[name] <= LIMITS[name] for name in LIMITS), counts
    module = Path(order_module.__file__).read_text(encoding="utf-8")
    assert blocks["check_order"] in module  # the same text: one program, not two


def test_verify_ledger_file_runs_the_order_checker(tmp_path):
    good, forged, v1 = tmp_path / "good.json", tmp_path / "forged.json", tmp_path / "v1.json"
    good.write_text(json.dumps(export_of(fcfs_steps(GOOD_FIRST_RUN))), encoding="utf-8")
    forged.write_text(json.dumps(rehashed(export_of(fcfs_steps([3, 6, 1, 5])))), encoding="utf-8")
    version1 = [
        lambda seq: {
            "v": 1,
            "kind": "registered",
            "seq": seq,
            "queue_number": 1,
            "name": "张*",
            "building": "1",
            "room": "101",
            "channel": "online",
            "at": AT,
        },
        lambda seq: (
            ledger.voided_payload(seq=seq, queue_number=1, reason="staff", at_iso=AT) | {"v": 1}
        ),
    ]
    v1.write_text(json.dumps(export_of(version1)), encoding="utf-8")
    out = StringIO()
    call_command("verify_ledger", "--file", str(good), "--file", str(v1), stdout=out)
    assert "OK: 2 chain(s) verified" in out.getvalue()
    with pytest.raises(CommandError, match=r"seq 10: order: link 10: served \[5\]"):
        call_command("verify_ledger", "--file", str(forged), stdout=StringIO())


# --- emergency deliveries (allocation/emergency.py) ------------------------------------


def emergency_steps(first_run: list[int], delivered: int = 2) -> list[Step]:
    """Queue number 2 is an emergency delivery, served outside the queue order."""
    return [
        reg(1, "1", "101"),
        reg(2, "1", "102", "emergency"),
        lambda seq: ledger.emergency_payload(
            seq=seq, queue_number=delivered, pharmacy="P01", day="2020-02-03", packs=1, at_iso=AT
        ),
        reg(3, "1", "103"),
        alloc("fcfs", first_run, (0, 0, 2)),
    ]


def test_the_documented_checker_accepts_an_emergency_delivery_and_catches_tampering():
    assert check_order(export_of(emergency_steps([1, 3]))) == []
    # The delivered household served again in the queue order: caught.
    assert check_order(export_of(emergency_steps([1, 2])))
    # An emergency link naming a registration that queued (channel online): caught.
    assert any("emergency" in p for p in check_order(export_of(emergency_steps([1, 3], 1))))
