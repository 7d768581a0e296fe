"""``fairshare import_roster FILE… [--district NAME] [--subdistrict CODE] [--dry-run]
[--reset-passwords]``.

The same engine as the upload page (``fairshare.accounts.roster.services.roster_import``).
On success stdout holds only one line ``username<TAB>password`` per staff account given
a one-time password (new accounts; with ``--reset-passwords`` also accounts whose
one-time password is still unchanged), printed this once and stored nowhere in clear;
the counts per sheet and the timings go to stderr. On any error it prints one line per
error (sheet:row [column]: message) on stderr, writes nothing and exits with status 1.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fairshare.accounts.roster.errors import ImportRefused
from fairshare.accounts.roster.progress import StageProgress
from fairshare.accounts.roster.services import roster_import
from fairshare.community.models import Subdistrict


class Command(BaseCommand):
    help = "Import a roster workbook (XLSX) or CSV files: places, households, staff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--district", help="district of subdistricts the file creates")
        parser.add_argument("--subdistrict", help="code of the one subdistrict to import into")
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="new one-time passwords for accounts that have not changed theirs yet",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        subdistrict = None
        if options["subdistrict"]:
            subdistrict = Subdistrict.objects.filter(code=options["subdistrict"]).first()
            if subdistrict is None:
                raise CommandError(f"unknown subdistrict {options['subdistrict']}")
        started = time.monotonic()
        handles = [(path.name, path.open("rb")) for path in options["files"]]

        progress = StageProgress(self.stderr, started=started)
        try:
            result = roster_import(
                files=handles,
                actor=None,
                subdistrict=subdistrict,
                district_name=options["district"],
                dry_run=options["dry_run"],
                progress=progress if options["verbosity"] >= 1 else None,
                reset_passwords=options["reset_passwords"],
            )
        except ImportRefused as exc:
            for error in exc.errors.items:
                self.stderr.write(str(error))
            if exc.errors.overflow:
                self.stderr.write(f"… {exc.errors.overflow} more")
            self.stderr.write(f"{len(exc.errors)} error(s); nothing was written.")
            sys.exit(1)
        finally:
            progress.end()
            for _name, handle in handles:
                handle.close()
        self.stderr.write(json.dumps(result.summary(), ensure_ascii=False))
        self.stderr.write(f"done in {time.monotonic() - started:.1f}s")
        for username, password in result.passwords:
            self.stdout.write(f"{username}\t{password}")
