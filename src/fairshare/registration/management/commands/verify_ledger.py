"""``fairshare verify_ledger``: re-verify every registration hash chain.

Without options: every (round, committee) chain in the database, checked link by
link and against the stored registrations. ``--file board.json`` (repeatable):
an exported public board, offline: its chain, its head, and the order of every
allocation link (the order checker of docs/ledger.md; v1 and v2 chains). Prints OK
with the head hashes, or names the first broken link (round, committee, seq) and exits
with status 1.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fairshare.registration.verify import ChainReport, verify_database, verify_export


class Command(BaseCommand):
    help = "Re-verify the registration hash chains (database, or exported boards with --file)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", action="append", default=[], help="exported board JSON to verify offline"
        )
        parser.add_argument("--round", type=int, default=None, help="only this round's chains")

    def handle(self, *args, file: list[str], round: int | None, **options):
        reports: list[ChainReport] = []
        if file:
            for name in file:
                try:
                    data = json.loads(Path(name).read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise CommandError(f"{name}: cannot read the board: {exc}") from exc
                reports.append(verify_export(data))
        else:
            reports = verify_database(round_id=round)
        broken = [r for r in reports if not r.ok]
        for report in reports:
            where = f"round {report.round_id} committee {report.committee}"
            if report.ok:
                self.stdout.write(f"OK {where}: {report.links} links, head {report.head_hash}")
            else:
                self.stdout.write(f"BROKEN {where} at seq {report.broken_seq}: {report.reason}")
        if broken:
            first = broken[0]
            raise CommandError(
                f"ledger broken: round {first.round_id} committee {first.committee} "
                f"seq {first.broken_seq}: {first.reason}",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"OK: {len(reports)} chain(s) verified"))
