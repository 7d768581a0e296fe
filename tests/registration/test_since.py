"""``verify_ledger --file today.json --since yesterday.json`` (issue 18): today's posting
must extend yesterday's (nothing removed, changed or reordered), and signed checkpoints
in both must verify. The negative controls re-hash today's chain so that it verifies on
its own: only the comparison with yesterday can catch them."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command

from fairshare.core.edkeys import public_key_b64
from fairshare.registration.ledger import GENESIS, canonical, link_hash
from fairshare.registration.services import registration_create
from fairshare.transparency.checkpoints import (
    checkpoint_take,
    export_with_checkpoint,
    ledger_key_info,
)
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def _register(place, room: str) -> None:
    registration_create(
        round=place["round"],
        household=HouseholdFactory(building=place["building"], room=room),
        name=f"住户{room}",
        phone=f"13812345{room}",
        channel="online",
    )


def _posting(place) -> dict:
    return export_with_checkpoint(round=place["round"], committee=place["committee"])


@pytest.fixture
def postings(place):
    """Yesterday's posting (3 links, checkpointed) and today's (5 links, checkpointed)."""
    for room in ("401", "402", "403"):
        _register(place, room)
    checkpoint_take(actor=None)
    yesterday = _posting(place)
    for room in ("404", "405"):
        _register(place, room)
    checkpoint_take(actor=None)
    return _posting(place), yesterday


def _rechain(data: dict) -> dict:
    """Renumber and re-hash every link (and the head), as a forger would."""
    prev = GENESIS
    for seq, link in enumerate(data["links"], start=1):
        body = json.loads(link["payload"]) | {"seq": seq}
        link.update(seq=seq, payload=canonical(body), prev_hash=prev)
        link["hash"] = prev = link_hash(prev, link["payload"])
    data["head_hash"] = prev
    data["checkpoint"] = None
    return data


def _verify(tmp_path: Path, today: dict, yesterday: dict, *extra: str) -> str:
    (tmp_path / "today.json").write_text(json.dumps(today), "utf-8")
    (tmp_path / "yesterday.json").write_text(json.dumps(yesterday), "utf-8")
    out = StringIO()
    call_command(
        "verify_ledger",
        "--file",
        str(tmp_path / "today.json"),
        "--since",
        str(tmp_path / "yesterday.json"),
        *extra,
        stdout=out,
    )
    return out.getvalue()


def test_an_extended_chain_passes_with_both_checkpoints_verified(postings, tmp_path):
    today, yesterday = postings
    key = ledger_key_info()
    out = _verify(tmp_path, today, yesterday, "--public-key", key["public_key"])
    assert "today's 5 links extend yesterday's 3" in out
    assert out.count("OK checkpoint of") == 2 and key["fingerprint"] in out


def test_a_removed_link_fails_naming_its_seq(postings, tmp_path):
    today, yesterday = postings
    del today["links"][1]  # yesterday's link 2, the rest re-hashed into a valid chain
    with pytest.raises(CommandError, match="seq 2: link 2 of yesterday's posting differs"):
        _verify(tmp_path, _rechain(today), yesterday)


def test_a_removed_tail_fails_naming_its_seq(postings, tmp_path):
    today, yesterday = postings
    today["links"] = today["links"][:2]
    with pytest.raises(CommandError, match="seq 3: link 3 of yesterday's posting was removed"):
        _verify(tmp_path, _rechain(today), yesterday)


def test_a_changed_link_fails_naming_its_seq(postings, tmp_path):
    today, yesterday = postings
    body = json.loads(today["links"][2]["payload"])
    today["links"][2]["payload"] = canonical(body | {"name": "李*"})
    with pytest.raises(CommandError, match=r"seq 3: .*differs today \(payload, hash\)"):
        _verify(tmp_path, _rechain(today), yesterday)


def test_reordered_links_fail(postings, tmp_path):
    today, yesterday = postings
    today["links"][0], today["links"][1] = today["links"][1], today["links"][0]
    with pytest.raises(CommandError, match="seq 1: link 1 of yesterday's posting differs"):
        _verify(tmp_path, _rechain(today), yesterday)


def test_a_tampered_checkpoint_fails(postings, tmp_path):
    today, yesterday = postings
    cp = today["checkpoint"]
    cp["statement"] = cp["statement"].replace('"links":5', '"links":4')
    with pytest.raises(
        CommandError, match="signature does not match its statement \\(in today's posting\\)"
    ):
        _verify(tmp_path, today, yesterday)


def test_a_checkpoint_of_another_key_fails(postings, tmp_path):
    today, yesterday = postings
    other = public_key_b64(Ed25519PrivateKey.generate())
    with pytest.raises(CommandError, match="signed with another key than the one given"):
        _verify(tmp_path, today, yesterday, "--public-key", other)


def test_since_needs_exactly_one_file(postings, tmp_path):
    _, yesterday = postings
    (tmp_path / "y.json").write_text(json.dumps(yesterday), "utf-8")
    with pytest.raises(CommandError, match="exactly one --file"):
        call_command("verify_ledger", "--since", str(tmp_path / "y.json"), stdout=StringIO())


def test_a_single_file_with_a_checkpoint_is_checked_too(postings, tmp_path):
    today, _ = postings
    path = tmp_path / "today.json"
    path.write_text(json.dumps(today), "utf-8")
    out = StringIO()
    call_command("verify_ledger", "--file", str(path), stdout=out)
    assert "OK checkpoint of" in out.getvalue() and "5 links signed" in out.getvalue()
    today["checkpoint"]["signature"] = today["checkpoint"]["signature"][::-1]
    path.write_text(json.dumps(today), "utf-8")
    with pytest.raises(CommandError, match="checkpoint refused"):
        call_command("verify_ledger", "--file", str(path), stdout=StringIO())
