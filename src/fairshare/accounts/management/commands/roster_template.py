"""``fairshare roster_template OUT.xlsx``: an empty roster workbook to fill in (the four
sheets with Chinese headers, required columns in bold, and an instructions sheet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fairshare.accounts.roster.template import roster_template_write


class Command(BaseCommand):
    help = "Write an empty roster template workbook (XLSX)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="the .xlsx file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        roster_template_write(out)
        self.stdout.write(f"wrote {out}")
