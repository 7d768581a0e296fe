"""Lottery seeds on several nodes: every node reveals the same seed, so draws the same ranks.

Each "node" is a data folder of its own (``settings.DATA_DIR``); the database is shared.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from fairshare.allocation import lottery
from fairshare.allocation.models import LotterySecret, Voucher
from fairshare.allocation.services import (
    allocation_run,
    lottery_commit,
    lottery_reveal,
    lottery_secret_seed,
    lottery_seed_path,
)
from fairshare.core.errors import Conflict
from fairshare.rounds.models import Round
from tests.allocation.factories import Entry, queue_build, registration_close, supply_set
from tests.allocation.reference import lottery_order

pytestmark = pytest.mark.django_db


def _lottery_round(s: dict, households: int) -> tuple[Round, list]:
    rnd = s["round"]
    rnd.policy = "lottery"
    rnd.save()
    regs = queue_build(round=rnd, committee=s["committees"][0], entries=[Entry()] * households)
    return rnd, regs


def _node_ranks(data_dir: Path, rnd: Round, regs: list) -> list[int]:
    with override_settings(DATA_DIR=data_dir):
        seed = lottery_secret_seed(Round.objects.get(pk=rnd.pk))
    assert seed is not None
    return [r.ticket for r in lottery_order(seed, regs)]


def test_two_nodes_draw_the_same_ranks(pharmacy_setup, tmp_path):
    s = pharmacy_setup
    node1, node2 = tmp_path / "node1", tmp_path / "node2"
    rnd, regs = _lottery_round(s, 20)
    with override_settings(DATA_DIR=node1):
        commitment = lottery_commit(round=rnd)
    assert not (node1 / "lottery").exists()  # nothing of it on node1's disk
    assert _node_ranks(node1, rnd, regs) == _node_ranks(node2, rnd, regs)
    registration_close(rnd)
    with override_settings(DATA_DIR=node2):  # revealed on the other node, no --seed
        seed = lottery_reveal(round=rnd)
    assert lottery.seed_matches(seed, commitment)
    supply_set(pharmacy=s["pharmacy"], date=s["today"], packs=8)
    rnd.refresh_from_db()
    with override_settings(DATA_DIR=node1):
        allocation_run(round=rnd, date=s["today"])
    vouchers = Voucher.objects.filter(round=rnd).order_by("id")
    issued = list(vouchers.values_list("registration__ticket", flat=True))
    assert issued == _node_ranks(node2, rnd, regs)[:8]


def test_per_node_seed_files_would_draw_different_ranks(pharmacy_setup, tmp_path):
    """Negative control: the old layout, one seed file in each node's data folder."""
    s = pharmacy_setup
    rnd, regs = _lottery_round(s, 20)
    ranks = []
    for node in ("node1", "node2"):
        with override_settings(DATA_DIR=tmp_path / node):
            path = lottery_seed_path(rnd)
        path.parent.mkdir(parents=True)
        path.write_text(lottery.seed_new())
        ranks.append([r.ticket for r in lottery_order(path.read_text(), regs)])
    assert ranks[0] != ranks[1]


def test_a_legacy_seed_file_moves_into_the_database_on_first_use(pharmacy_setup, tmp_path):
    s = pharmacy_setup
    old, other = tmp_path / "old", tmp_path / "other"
    rnd, _regs = _lottery_round(s, 3)
    seed = lottery.seed_new()  # committed by an older release: the seed in a file only
    Round.objects.filter(pk=rnd.pk).update(lottery_commitment=lottery.commitment_of(seed))
    with override_settings(DATA_DIR=old):
        path = lottery_seed_path(rnd)
    path.parent.mkdir(parents=True)
    path.write_text(seed + "\n")
    registration_close(rnd)
    with override_settings(DATA_DIR=other), pytest.raises(Conflict):
        lottery_reveal(round=rnd)  # not moved yet: the other node cannot find it
    with override_settings(DATA_DIR=old):
        assert lottery_secret_seed(rnd) == seed
    assert LotterySecret.objects.get(round=rnd).seed == seed
    with override_settings(DATA_DIR=other):
        assert lottery_reveal(round=rnd) == seed
    rnd.refresh_from_db()
    assert rnd.lottery_seed == seed
