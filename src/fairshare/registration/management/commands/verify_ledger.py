"""``fairshare verify_ledger``: re-verify every registration hash chain.

Without options: every (round, committee) chain in the database, checked link by
link and against the stored registrations. ``--file board.json`` (repeatable):
an exported public board, offline: its chain, its head, and the order of every
allocation link (the order checker of docs/ledger.md; v1 and v2 chains); a signed
checkpoint it carries is checked too (``--public-key``: the ledger key shown on the
poster, else the key the file names). ``--file today.json --since yesterday.json``: also
that today's posting extends yesterday's (``registration/since.py``). Prints OK with the
head hashes, or names the first broken link (round, committee, seq) and exits with
status 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fairshare.core.edkeys import key_fingerprint
from fairshare.registration.checkpoint_format import CheckpointReport
from fairshare.registration.since import export_checkpoint, since_check
from fairshare.registration.verify import ChainReport, verify_database, verify_export


def _read(name: str) -> Any:
    try:
        return json.loads(Path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"{name}: cannot read the board: {exc}") from exc


class Command(BaseCommand):
    help = "Re-verify the registration hash chains (database, or exported boards with --file)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", action="append", default=[], help="exported board JSON to verify offline"
        )
        parser.add_argument("--round", type=int, default=None, help="only this round's chains")
        parser.add_argument(
            "--since", default=None, help="yesterday's export of the same chain (with one --file)"
        )
        parser.add_argument(
            "--public-key", default=None, help="the ledger public key (base64url) to trust"
        )

    def handle(self, *args, file: list[str], round: int | None, since: str | None, **options):
        public_key = options.get("public_key")
        if since is not None:
            if len(file) != 1:
                raise CommandError("--since compares one --file with it; give exactly one --file")
            return self._since(_read(file[0]), _read(since), public_key)
        reports: list[ChainReport] = []
        signed: list[CheckpointReport] = []
        if file:
            for name in file:
                data = _read(name)
                reports.append(verify_export(data))
                checked = export_checkpoint(data, public_key=public_key)
                if reports[-1].ok and checked is not None:  # a broken chain: named below
                    signed.append(checked)
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
        self._checkpoints(signed)
        self.stdout.write(self.style.SUCCESS(f"OK: {len(reports)} chain(s) verified"))

    def _checkpoints(self, reports: list[CheckpointReport]) -> None:
        for report in reports:
            if not report.ok:
                raise CommandError(f"checkpoint refused: {report.reason}", returncode=1)
            where = (
                f"{report.chain['links']} links signed" if report.chain else "chain not in it yet"
            )
            self.stdout.write(
                f"OK checkpoint of {report.at} ({where}), key {report.public_key} "
                f"(fingerprint {key_fingerprint(report.public_key)})"
            )

    def _since(self, today: Any, yesterday: Any, public_key: str | None) -> None:
        report = since_check(today, yesterday, public_key=public_key)
        where = f"round {report.round_id} committee {report.committee}"
        if not report.ok:
            self.stdout.write(f"BROKEN {where} at seq {report.broken_seq}: {report.reason}")
            raise CommandError(
                f"today's posting does not extend yesterday's: {where} "
                f"seq {report.broken_seq}: {report.reason}",
                returncode=1,
            )
        self._checkpoints(report.checkpoints)
        self.stdout.write(
            self.style.SUCCESS(
                f"OK {where}: today's {report.links} links extend yesterday's "
                f"{report.since_links}, head {report.head_hash}"
            )
        )
