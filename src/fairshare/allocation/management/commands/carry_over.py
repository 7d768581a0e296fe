"""``fairshare carry_over --round R``: carry unserved households of the previous round."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fairshare.allocation.carryover import carry_over_run
from fairshare.core.errors import ServiceError
from fairshare.rounds.selectors import round_get


class Command(BaseCommand):
    help = "Register the households still waiting in the round's carry_over_from round first."

    def add_arguments(self, parser):
        parser.add_argument("--round", type=int, required=True, dest="round_id")

    def handle(self, *args, round_id: int, **options):
        try:
            result = carry_over_run(round=round_get(round_id=round_id))
        except ServiceError as exc:
            raise CommandError(str(exc.message)) from None
        for code, n in result["carried"].items():
            self.stdout.write(f"{code}: {n} carried over")
        self.stdout.write(f"carried over {result['total']} households")
        if result["without_mobile"]:
            self.stdout.write(
                f"{result['without_mobile']} carried households have no mobile number: "
                "the committee tells them by hand"
            )
