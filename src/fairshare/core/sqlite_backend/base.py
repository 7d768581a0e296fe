"""Django's SQLite backend, with one change: the "%s" → "?" conversion is cached.

Django converts every statement's placeholders with a regular expression (a
look-behind search over the whole SQL text) on every execution. The service runs the
same few statements over and over, and some are long (the household look-up is ~1.5 kB),
so this conversion was 7.7 % of the instructions of a registration (callgrind, see
BENCHMARKS.md). The result depends only on the SQL text, so it is memoized; everything
else is Django's backend unchanged (ENGINE "fairshare.core.sqlite_backend").
"""

from __future__ import annotations

from functools import lru_cache

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
