"""``fairshare ledger_checkpoint [--file PATH]``: the daily signed ledger checkpoint.

Re-verifies every (round, committee) hash chain as ``verify_ledger`` does, then records
the result with the time: one audit-log row (action ``ledger.checkpoint``, the head
hash and length of every chain in ``after``) and, when every chain verifies, a signed
``LedgerCheckpoint`` (``transparency/checkpoints.py``: the statement of the heads, its
Ed25519 signature with the ledger key and the public key). With ``--file``, one JSON
line is appended to that file (keep it, or copy it off the machine: a later head that
does not extend a recorded one shows that history was rewritten). A broken chain is
recorded too, but not signed, and the command then exits with status 1 so that the
timer's failure is seen.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fairshare.transparency.checkpoints import checkpoint_take


class Command(BaseCommand):
    help = "Verify every ledger chain, sign and record the head hashes with the time (daily)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=None, help="also append one JSON line here")

    def handle(self, *args, file: str | None, **options):
        result = checkpoint_take(actor=None)
        record = result.record
        if file:
            with Path(file).open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        if not result.ok:
            first = next(r for r in result.reports if not r.ok)
            raise CommandError(
                f"ledger broken: round {first.round_id} committee {first.committee} "
                f"seq {first.broken_seq}: {first.reason}",
                returncode=1,
            )
        self.stdout.write(
            f"checkpoint {record['at']}: {len(record['chains'])} chain(s) verified and signed "
            f"(key {record['public_key']})"
        )
