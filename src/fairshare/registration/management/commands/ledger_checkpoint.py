"""``fairshare ledger_checkpoint [--file PATH]``: the daily ledger checkpoint.

Re-verifies every (round, committee) hash chain as ``verify_ledger`` does, then records
the result with the time: one audit-log row (action ``ledger.checkpoint``, the head
hash and length of every chain in ``after``) and, with ``--file``, one JSON line
appended to that file (keep it, or copy it off the machine: a later head that does not
extend a recorded one shows that history was rewritten). A broken chain is recorded
too, and the command then exits with status 1 so that the timer's failure is seen.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fairshare.core.audit import audit_record
from fairshare.registration.verify import verify_database

ACTION = "ledger.checkpoint"


class Command(BaseCommand):
    help = "Verify every ledger chain and record the head hashes with the time (daily)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=None, help="also append one JSON line here")

    def handle(self, *args, file: str | None, **options):
        reports = verify_database()
        at = timezone.now()
        chains = [
            {
                "round": r.round_id,
                "committee": r.committee,
                "links": r.links,
                "head": r.head_hash,
                **({} if r.ok else {"broken_seq": r.broken_seq, "reason": r.reason}),
            }
            for r in reports
        ]
        ok = all(r.ok for r in reports)
        record = {"at": at.isoformat(), "ok": ok, "chains": chains}
        audit_record(
            actor=None,
            action=ACTION,
            after=record,
            note=f"{len(chains)} chain(s), {'verified' if ok else 'BROKEN'}",
        )
        if file:
            with Path(file).open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        if not ok:
            first = next(r for r in reports if not r.ok)
            raise CommandError(
                f"ledger broken: round {first.round_id} committee {first.committee} "
                f"seq {first.broken_seq}: {first.reason}",
                returncode=1,
            )
        self.stdout.write(f"checkpoint {at.isoformat()}: {len(chains)} chain(s) verified")
