"""``fairshare carry_over --round R``: carry unserved households of the previous round."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fairshare.allocation.carryover import round_carry_over
from fairshare.core.errors import ServiceError
from fairshare.rounds.selectors import round_get


class Command(BaseCommand):
    help = "Register the households still waiting in the round's carry_over_from round first."

    def add_arguments(self, parser):
        parser.add_argument("--round", type=int, required=True, dest="round_id")

    def handle(self, *args, round_id: int, **options):
        try:
            counts = round_carry_over(round=round_get(round_id=round_id))
        except ServiceError as exc:
            raise CommandError(str(exc.message)) from None
        for code, n in counts.items():
            self.stdout.write(f"{code}: {n} carried over")
        self.stdout.write(f"carried over {sum(counts.values())} households")
