"""Django's SQLite backend, with one change: the "%s" → "?" conversion is cached.

Django converts every statement's placeholders with a regular expression (a
look-behind search over the whole SQL text) on every execution. The service runs the
same few statements over and over, and some are long (the household look-up is ~1.5 kB),
so this conversion was 7.7 % of the instructions of a registration (callgrind, see
BENCHMARKS.md). The result depends only on the SQL text, so it is memoized.

Every connection also runs ``PRAGMA secure_delete=ON``: deleted or overwritten content
is zeroed in the database file (and the pages written to the WAL), so a purged name or
phone does not survive in free space; ``wal_checkpoint_truncate`` (called after the
personal-data purge commits) moves the WAL into the database file and empties it.
Everything else is Django's backend unchanged (ENGINE "fairshare.core.sqlite_backend").
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db import connections
from django.db.backends.sqlite3 import base


@lru_cache(maxsize=2048)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> SQLiteCursorWrapper:
        cursor: SQLiteCursorWrapper = self.connection.cursor(factory=SQLiteCursorWrapper)
        return cursor

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        conn = super().get_new_connection(conn_params)
        conn.execute("PRAGMA secure_delete=ON")
        return conn


def wal_checkpoint_truncate(alias: str = "default") -> tuple[int, int, int] | None:
    """Checkpoint the WAL of an SQLite database and truncate it to zero bytes.

    Returns SQLite's (busy, log frames, checkpointed frames), ``None`` on other
    databases. ``busy`` is 1 when another connection's open read kept part of the WAL.
    """
    connection = connections[alias]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = cursor.fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else None
