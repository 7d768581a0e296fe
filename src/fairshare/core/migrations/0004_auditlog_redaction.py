"""The audit log stays append-only, with one controlled exception: redaction.

The personal-data purge (``accounts/purge.py``) may UPDATE a row once, and only to blank
its free-text and data columns: ``note`` becomes '', ``before`` and ``after`` NULL, and
``redacted_at`` is set where it was NULL. Every other UPDATE, every DELETE (and on
PostgreSQL TRUNCATE) is still refused by the database, on SQLite and PostgreSQL alike.
The other columns (time, actor, action, object, scope) must stay exactly as they were.
"""

from django.db import migrations, models

# The columns a redaction changes; every other column must keep its value.
REDACTED = ("note", "before", "after", "redacted_at")
ALLOWED = (
    "OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL"
    " AND NEW.note = '' AND NEW.before IS NULL AND NEW.after IS NULL"
)
MESSAGE = "audit log is append-only (only a redaction may change a row)"

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_auditlog_no_update",
    "DROP TRIGGER IF EXISTS core_auditlog_no_delete",
]


def sqlite_create(columns: list[str]) -> list[str]:
    """The SQLite triggers, given the table's columns (all but REDACTED must not change)."""
    same = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in columns if c not in REDACTED)
    return [
        f"""CREATE TRIGGER core_auditlog_no_update BEFORE UPDATE ON core_auditlog
           WHEN NOT ({ALLOWED} AND {same})
           BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER core_auditlog_no_delete BEFORE DELETE ON core_auditlog
           BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    ]


def sqlite_columns(cursor) -> list[str]:
    cursor.execute("PRAGMA table_info(core_auditlog)")
    return [row[1] for row in cursor.fetchall()]


# PostgreSQL compares the whole row as JSON minus the redacted columns, so a column
# added later is covered without changing the trigger.
_UNCHANGED = " ".join(f"- '{c}'" for c in REDACTED)
POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION core_auditlog_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND {ALLOWED}
            AND (to_jsonb(NEW) {_UNCHANGED}) = (to_jsonb(OLD) {_UNCHANGED}) THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION '{MESSAGE}';
       END; $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS core_auditlog_no_change ON core_auditlog",
    """CREATE TRIGGER core_auditlog_no_change BEFORE UPDATE OR DELETE ON core_auditlog
       FOR EACH ROW EXECUTE FUNCTION core_auditlog_guard()""",
]
POSTGRES_BACK = [
    "DROP TRIGGER IF EXISTS core_auditlog_no_change ON core_auditlog",
    """CREATE TRIGGER core_auditlog_no_change BEFORE UPDATE OR DELETE ON core_auditlog
       FOR EACH ROW EXECUTE FUNCTION core_auditlog_refuse()""",
    "DROP FUNCTION IF EXISTS core_auditlog_guard()",
]
# The 0002 triggers, put back when this migration is reversed.
SQLITE_0002 = [
    """CREATE TRIGGER core_auditlog_no_update BEFORE UPDATE ON core_auditlog
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    """CREATE TRIGGER core_auditlog_no_delete BEFORE DELETE ON core_auditlog
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
]


def _sqlite_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)


def _install(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            statements = sqlite_create(sqlite_columns(cursor))
    elif connection.vendor == "postgresql":
        statements = POSTGRES
    else:
        statements = []
    for sql in statements:
        schema_editor.execute(sql)


def _uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_0002, "postgresql": POSTGRES_BACK}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_cache_table")]
    operations = [
        # SQLite triggers go first: a table rebuild would drop them silently.
        migrations.RunPython(_sqlite_drop, _uninstall),
        migrations.AddField(
            model_name="auditlog",
            name="redacted_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="redacted at"),
        ),
        migrations.RunPython(_install, _sqlite_drop),
    ]
