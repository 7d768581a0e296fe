"""Lottery: commit → reveal → recompute the ranks from the revealed seed alone."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from fairshare.allocation import lottery
from fairshare.allocation.models import Voucher
from fairshare.allocation.selectors import lottery_verify
from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.registration.models import LedgerEntry
from tests.allocation.factories import Entry, queue_build, registration_close
from tests.allocation.reference import lottery_order

pytestmark = pytest.mark.django_db


def test_commit_reveal_recompute(pharmacy_setup, capsys, settings, tmp_path):
    settings.DATA_DIR = tmp_path  # no seed file may be written here
    s = pharmacy_setup
    rnd = s["round"]
    rnd.policy = "lottery"
    rnd.save()
    call_command("lottery", "commit", "--round", str(rnd.pk))
    commitment = capsys.readouterr().out.strip().split()[-1]
    rnd.refresh_from_db()
    assert rnd.lottery_commitment == commitment and not rnd.lottery_seed
    with pytest.raises(CommandError):  # registration still open
        call_command("lottery", "reveal", "--round", str(rnd.pk))
    regs = queue_build(round=rnd, committee=s["committees"][0], entries=[Entry()] * 30)
    registration_close(rnd)
    with pytest.raises(CommandError):  # a seed that does not match its commitment
        call_command("lottery", "reveal", "--round", str(rnd.pk), "--seed", "guess")
    with pytest.raises(CommandError):  # allocation refuses before the reveal
        call_command("allocate", "--round", str(rnd.pk), "--date", s["today"].isoformat())
    call_command("lottery", "reveal", "--round", str(rnd.pk))
    seed = capsys.readouterr().out.strip().split()[-1]
    assert not (tmp_path / "lottery").exists()  # kept in the database, not on the node
    assert hashlib.sha256(seed.encode()).hexdigest() == commitment
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=12,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )
    rnd.refresh_from_db()
    allocation_run(round=rnd, date=s["today"])
    issued = list(
        Voucher.objects.filter(round=rnd)
        .order_by("id")
        .values_list("registration__ticket", flat=True)
    )
    # Anyone can recompute the order from the revealed seed and the public link hashes.
    expected = [r.ticket for r in lottery_order(seed, regs)][:12]
    assert issued == expected
    assert issued != [r.ticket for r in regs][:12]  # not simply queue order
    call_command("lottery", "verify", "--round", str(rnd.pk))
    assert "OK" in capsys.readouterr().out
    # A tampered voucher (someone served out of rank) is caught by verify.
    loser = next(r for r in regs if r.ticket not in issued)
    winner = Voucher.objects.filter(round=rnd).order_by("id").first()
    Voucher.objects.filter(pk=winner.pk).update(registration=loser, household=loser.household)
    with pytest.raises(CommandError):
        call_command("lottery", "verify", "--round", str(rnd.pk))


def test_rank_key_is_keyed_hash():
    seed, link = "abc", "f" * 64
    assert lottery.rank_key(seed, link) == hmac.new(b"abc", link.encode(), "sha256").hexdigest()
    plain = lottery.draw_key(
        seed, link_hash=link, queue_number=7, carried=False, carried_first=True
    )
    carried = lottery.draw_key(
        seed, link_hash="0" * 64, queue_number=9, carried=True, carried_first=True
    )
    assert carried < plain  # carried households are drawn first when the round says so
    assert lottery.draw_key(
        seed, link_hash=link, queue_number=7, carried=False, carried_first=False
    ) == (False, lottery.rank_key(seed, link), 7)


def test_allocate_command_dry_run_and_errors(pharmacy_setup, capsys):
    s = pharmacy_setup
    queue_build(round=s["round"], committee=s["committees"][0], entries=[Entry()] * 3)
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=2,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )
    args = ["--round", str(s["round"].pk), "--date", s["today"].isoformat()]
    call_command("allocate", *args, "--dry-run")
    assert "would issue 2" in capsys.readouterr().out
    assert not Voucher.objects.exists()
    call_command("allocate", *args, "--pharmacy", s["pharmacy"].code)
    assert "issued 2" in capsys.readouterr().out
    late = (s["round"].valid_until + timedelta(days=1)).isoformat()
    with pytest.raises(CommandError):
        call_command("allocate", "--round", str(s["round"].pk), "--date", late)
    assert Voucher.objects.count() == 2


@pytest.mark.parametrize("carried_first", [True, False])
def test_carried_households_drawn_first_when_the_round_says_so(pharmacy_setup, carried_first):
    from fairshare.allocation.carryover import carry_over_run
    from tests.factories import RoundFactory

    s = pharmacy_setup
    committee = s["committees"][0]
    queue_build(round=s["round"], committee=committee, entries=[Entry()] * 6)
    seed = "ab" * 32
    new = RoundFactory(
        district=s["round"].district,
        policy="lottery",
        carry_over_from=s["round"],
        carried_first=carried_first,
        lottery_seed=seed,
        lottery_commitment=lottery.commitment_of(seed),
    )
    assert carry_over_run(round=new)["total"] == 6
    queue_build(round=new, committee=committee, entries=[Entry()] * 10)
    regs = list(new.registrations.order_by("queue_number"))
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=6,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )
    allocation_run(round=new, date=s["today"])
    served = list(
        Voucher.objects.filter(round=new).order_by("id").values_list("registration_id", flat=True)
    )
    carried, others = regs[:6], regs[6:]
    if carried_first:
        assert served == [r.pk for r in lottery_order(seed, carried)]
    else:
        assert served == [r.pk for r in lottery_order(seed, carried + others)][:6]
    assert lottery_verify(round=new) == []
    links = [
        json.loads(e.payload) for e in LedgerEntry.objects.filter(round=new, kind="allocation")
    ]
    assert [link["carried_first"] for link in links] == [carried_first]
