"""``fairshare ledger_checkpoint``: the daily checkpoint verifies and records the heads."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from fairshare.core.models import AuditLog
from fairshare.registration.models import Registration
from fairshare.registration.selectors import ledger_export
from fairshare.registration.services import registration_create
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registrations(place):
    return [
        registration_create(
            round=place["round"],
            household=HouseholdFactory(building=place["building"], room=room),
            name=f"住户{room}",
            phone=f"13812345{room}",
            channel="online",
        ).registration
        for room in ("401", "402", "403")
    ]


def _checkpoint(*args: str) -> str:
    out = StringIO()
    call_command("ledger_checkpoint", *args, stdout=out)
    return out.getvalue()


def test_checkpoint_records_every_head_in_the_audit_log_and_file(registrations, place, tmp_path):
    path = tmp_path / "checkpoints.jsonl"
    assert "1 chain(s) verified" in _checkpoint("--file", str(path))
    _checkpoint("--file", str(path))
    board = ledger_export(round=place["round"], committee=place["committee"])
    rows = AuditLog.objects.filter(action="ledger.checkpoint").order_by("id")
    assert rows.count() == 2
    assert rows[0].after["ok"] is True
    assert rows[0].after["chains"] == [
        {"round": place["round"].pk, "committee": "KJ01", "links": 3, "head": board["head_hash"]}
    ]
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert len(lines) == 2 and lines[1]["chains"][0]["head"] == board["head_hash"]


def test_a_broken_chain_is_recorded_and_fails_the_run(registrations, tmp_path):
    Registration.objects.filter(pk=registrations[1].pk).update(queue_number=99)
    with pytest.raises(CommandError, match="seq 2") as exc:
        _checkpoint("--file", str(tmp_path / "c.jsonl"))
    assert exc.value.returncode == 1
    row = AuditLog.objects.get(action="ledger.checkpoint")
    assert row.after["ok"] is False and row.after["chains"][0]["broken_seq"] == 2
    assert "BROKEN" in row.note
