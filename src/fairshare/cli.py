"""``fairshare``: run Django management commands with the project's settings.

Configuration errors (a bad DATABASE_URL, say) end with one line naming the
variable and exit status 2, not a traceback.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fairshare.settings")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "fairshare"
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        print(f"fairshare: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
