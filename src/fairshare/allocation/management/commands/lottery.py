"""``fairshare lottery commit|reveal|verify --round R``: the lottery seed's life cycle.

* ``commit`` (before registration closes): draws a secret seed, keeps it once in the
  database (``LotterySecret``, shown nowhere before the reveal, the same on every node)
  and prints the commitment (its SHA-256) to publish;
* ``reveal`` (after registration closes, on any node): publishes the seed (from the
  database, from a seed file ``<data>/lottery/round-R.seed`` an older release left, or
  ``--seed`` when the operator kept it elsewhere); refused when it does not match;
* ``verify``: checks the seed against the commitment and that the vouchers issued so
  far follow the ranks recomputed from the seed and the tickets alone.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fairshare.allocation.selectors import lottery_verify
from fairshare.allocation.services import lottery_commit, lottery_reveal
from fairshare.core.errors import FieldErrors, ServiceError
from fairshare.rounds.selectors import round_get


class Command(BaseCommand):
    help = "Commit, reveal or verify the lottery seed of a round."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["commit", "reveal", "verify"])
        parser.add_argument("--round", type=int, required=True, dest="round_id")
        parser.add_argument("--seed", default=None, help="the seed (reveal/verify)")

    def handle(self, *args, action: str, round_id: int, seed: str | None, **options):
        try:
            round_ = round_get(round_id=round_id)
            if action == "commit":
                commitment = lottery_commit(round=round_)
                self.stdout.write(f"commitment (SHA-256 of the secret seed): {commitment}")
            elif action == "reveal":
                revealed = lottery_reveal(round=round_, seed=seed)
                self.stdout.write(f"seed revealed: {revealed}")
            else:
                problems = lottery_verify(round=round_, seed=seed)
                if problems:
                    raise CommandError("; ".join(problems))
                self.stdout.write("OK: seed matches its commitment; vouchers follow the ranks")
        except FieldErrors as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.items())
            ) from None
        except ServiceError as exc:
            raise CommandError(str(exc.message)) from None
