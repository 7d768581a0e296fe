"""``fairshare ledger_flush [--round N]``: the sales since the last flush join the ledger.

One "redeemed" link per (round, committee) with vouchers bought since its previous one
(``allocation.chain.ledger_redeemed_flush``); a till never waits for the chain. Run every
5 minutes (``deploy/systemd/fairshare-ledger-flush.timer``); running it again at once
appends nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fairshare.allocation.chain import ledger_redeemed_flush
from fairshare.rounds.models import Round


class Command(BaseCommand):
    help = "Append one 'redeemed' ledger link per chain with the vouchers bought since the last."

    def add_arguments(self, parser):
        parser.add_argument("--round", type=int, default=None, help="only this round")

    def handle(self, *args, round: int | None, **options):
        target = None
        if round is not None:
            target = Round.objects.filter(pk=round).first()
            if target is None:
                raise CommandError(f"unknown round {round}")
        links = ledger_redeemed_flush(round=target)
        self.stdout.write(f"appended {links} redeemed link(s)")
