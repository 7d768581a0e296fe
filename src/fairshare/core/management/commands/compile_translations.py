"""Compile every .po file of the project to .mo with polib (no GNU gettext needed).

``make`` runs this before tests and the demo; the .mo files are build output and
not committed. To extract new strings (needs GNU gettext):
``cd src/fairshare/<app> && fairshare makemessages -l zh_Hans``.
"""

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the project's .po translation files to .mo (pure Python)."

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(settings.PACKAGE_DIR)
        count = 0
        for po_path in sorted(root.glob("**/locale/*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            count += 1
        if options["verbosity"] > 0:
            self.stdout.write(f"compiled {count} translation file(s)")
