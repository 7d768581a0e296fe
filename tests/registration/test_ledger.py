from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from fairshare.community.models import Building
from fairshare.registration.ledger import verify_chain
from fairshare.registration.models import Registration
from fairshare.registration.selectors import ledger_export
from fairshare.registration.services import registration_create, registration_void
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(place, staff):
    regs = []
    for i, room in enumerate(["301", "302", "303", "304"]):
        household = (
            place["household"]
            if room == "301"
            else HouseholdFactory(building=place["building"], room=room)
        )
        regs.append(
            registration_create(
                round=place["round"],
                household=household,
                name=f"住户{i}号",
                phone=f"1381234567{i}",
                channel="online",
            ).registration
        )
    registration_void(registration=regs[1], actor=staff, reason="duplicate")
    return regs


def _verify(*args):
    from io import StringIO

    out = StringIO()
    call_command("verify_ledger", *args, stdout=out)
    return out.getvalue()


def test_intact_chain_verifies_with_head_hash(chain, place):
    output = _verify()
    board = ledger_export(round=place["round"], committee=place["committee"])
    assert f"head {board['head_hash']}" in output and "5 links" in output
    assert verify_chain(board["links"]) == (board["head_hash"], None)


@pytest.mark.parametrize(
    ("change", "seq"),
    [
        ({"queue_number": 99}, 3),
        ({"name": "别人"}, 3),
        ({"channel": "desk"}, 3),
    ],
)
def test_changing_a_stored_registration_breaks_verification_at_its_link(chain, change, seq):
    Registration.objects.filter(pk=chain[2].pk).update(**change)
    with pytest.raises(CommandError, match=f"seq {seq}") as exc:
        _verify()
    assert exc.value.returncode == 1


def test_moving_a_household_to_another_room_breaks_its_link(chain):
    household = chain[3].household
    household.room = "404"
    household.save()
    with pytest.raises(CommandError, match="seq 4"):
        _verify()


def test_renaming_a_building_breaks_the_first_link_of_that_building(chain, place):
    Building.objects.filter(pk=place["building"].pk).update(label="13号")
    with pytest.raises(CommandError, match="seq 1"):
        _verify()


def test_unvoiding_a_registration_breaks_the_voided_link(chain):
    # Back to pending (its "registered" link says review, so that link still agrees):
    # the "voided" link names a registration that is not void.
    Registration.objects.filter(pk=chain[1].pk).update(status="pending_review")
    with pytest.raises(CommandError, match="seq 5"):
        _verify()


def test_exported_board_verifies_offline_and_tampering_is_named(chain, place, tmp_path):
    board = ledger_export(round=place["round"], committee=place["committee"])
    good = tmp_path / "board.json"
    good.write_text(json.dumps(board, ensure_ascii=False), encoding="utf-8")
    assert "OK" in _verify("--file", str(good))

    tampered = json.loads(json.dumps(board))
    tampered["links"][1]["payload"] = tampered["links"][1]["payload"].replace('"302"', '"309"')
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="seq 2"):
        _verify("--file", str(bad))

    dropped = json.loads(json.dumps(board))
    del dropped["links"][2]
    bad.write_text(json.dumps(dropped), encoding="utf-8")
    with pytest.raises(CommandError, match="seq 4"):
        _verify("--file", str(bad))

    wrong_head = dict(board, head_hash="f" * 64)
    bad.write_text(json.dumps(wrong_head), encoding="utf-8")
    with pytest.raises(CommandError, match="head hash"):
        _verify("--file", str(bad))
