"""Settings for the length of one large import: no cyclic garbage collection (a million
rows of dicts and tuples would have it rescan them again and again; nothing in the import
makes cycles worth collecting) and, on SQLite, a larger page cache for the index inserts."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

# 256 MiB of pages (negative: KiB) while the import runs; SQLite's default is 2 MiB.
_CACHE_KIB = 262_144


@contextmanager
def bulk_session() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    previous = None
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            previous = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
    try:
        yield
    finally:
        if previous is not None and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(previous)}")
        if was_enabled:
            gc.enable()
