"""Django's ``flush`` (used by the test runner between transactional tests).

The audit log refuses UPDATE/DELETE/TRUNCATE through database triggers (only a
redaction may change a row, see migration 0004). Wiping the whole database is the one
operation allowed to clear it: this command lifts the triggers for the flush and puts
them back right after.
"""

from importlib import import_module
from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections

_triggers = import_module("fairshare.core.migrations.0004_auditlog_redaction")


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                for sql in _triggers.SQLITE_DROP:
                    cursor.execute(sql)
            elif connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = replica")
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                if connection.vendor == "sqlite":
                    for sql in _triggers.sqlite_create(_triggers.sqlite_columns(cursor)):
                        cursor.execute(sql)
                elif connection.vendor == "postgresql":
                    cursor.execute("SET session_replication_role = DEFAULT")
