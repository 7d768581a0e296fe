"""Create the database cache table as part of ``migrate``.

Rate limits and board caches use Django's cache; without REDIS_URL that is the
database cache, whose table ``createcachetable`` makes. Doing it in a migration
means every deployment that migrates has it (it is a no-op with Redis).
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_auditlog_append_only")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
