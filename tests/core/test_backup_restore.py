"""deploy/backup.sh and deploy/restore.sh round trip (PostgreSQL only).

Registrations are made through the API and committed, ``deploy/backup.sh`` dumps the
test database (``pg_dump --format=custom``) and the private uploads and applies the
retention, ``deploy/restore.sh`` restores the dump into a fresh database (created and
dropped here) and runs ``fairshare verify_ledger`` and ``fairshare purge_due`` against it;
then the restored database is read directly: every registration is there and the ledger
verifies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection
from django.test import Client

from fairshare.registration.models import LedgerEntry, Registration
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    RoundFactory,
)

ROOT = Path(__file__).resolve().parents[2]
FAIRSHARE = Path(sys.executable).with_name("fairshare")

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _admin(sql: str) -> None:
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(sql)


@pytest.fixture
def fresh_db():
    name = f"{connection.settings_dict['NAME']}_restore"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _registrations(settings) -> list[str]:
    settings.RATELIMIT_ENABLED = False
    committee = CommitteeFactory(code="KJ01")
    building = BuildingFactory(committee=committee, label="12号")
    rnd = RoundFactory(district=committee.subdistrict.district)
    client = Client()
    tickets = []
    for i in range(6):
        room, name = f"30{i}", f"住户{i}"
        MemberFactory(household=HouseholdFactory(building=building, room=room), name=name)
        body = {
            "committee": "KJ01",
            "building": "12号",
            "room": room,
            "name": name,
            "phone": f"1381234560{i}",
        }
        url = f"/api/v1/rounds/{rnd.pk}/registrations"
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 201, response.content
        tickets.append(response.json()["ticket"])
    return tickets


def _run(script: str, *args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["sh", str(ROOT / "deploy" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_restored_dump_has_every_registration_and_a_verifying_ledger(
    settings, tmp_path, fresh_db
):
    tickets = _registrations(settings)
    data = tmp_path / "var"
    (data / "private").mkdir(parents=True)
    (data / "private" / "photo.jpg").write_bytes(b"\xff\xd8 photo")
    backups = tmp_path / "backups"
    backups.mkdir()
    day = 24 * 3600
    expired, kept = backups / "db-20000101-034500.dump", backups / "db-20000102-034500.dump"
    for path, age in ((expired, 7 * day), (kept, 6 * day)):
        path.write_bytes(b"old")
        os.utime(path, (time.time() - age, time.time() - age))
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "ENV_FILE": str(tmp_path / "no-env-file"),
        "DATABASE_URL": _url(connection.settings_dict["NAME"]),
        "FAIRSHARE_DATA_DIR": str(data),
        "FAIRSHARE_BACKUP_DIR": str(backups),
        "FAIRSHARE_BACKUP_RETENTION_DAYS": "7",
        "FAIRSHARE": str(FAIRSHARE),
    }
    _run("backup.sh", env=env)
    # Retention: a backup 7 nights old is deleted by the run, a 6-night-old one stays.
    assert not expired.exists() and kept.exists()
    (dump,) = (p for p in backups.glob("db-*.dump") if p != kept)
    (archive,) = backups.glob("private-*.tar.gz")

    restored_data = tmp_path / "restored"
    env |= {"DATABASE_URL": _url(fresh_db), "FAIRSHARE_DATA_DIR": str(restored_data)}
    out = _run("restore.sh", str(dump), str(archive), env=env)
    assert "OK: 1 chain(s) verified" in out and "6 links" in out
    assert (restored_data / "private" / "photo.jpg").read_bytes() == b"\xff\xd8 photo"

    with psycopg.connect(_url(fresh_db)) as restored:
        rows = restored.execute(
            f"SELECT ticket, queue_number FROM {Registration._meta.db_table}"
        ).fetchall()
        links = restored.execute(f"SELECT count(*) FROM {LedgerEntry._meta.db_table}").fetchone()
    assert sorted(t for t, _ in rows) == sorted(tickets)
    assert sorted(q for _, q in rows) == list(range(1, 7))
    assert links == (6,)

    # Negative control: a registration changed in the restored copy fails verification.
    with psycopg.connect(_url(fresh_db)) as restored:
        restored.execute(
            f"UPDATE {Registration._meta.db_table} SET name = 'x' WHERE ticket = %s",
            [tickets[2]],
        )
    broken = subprocess.run(
        [str(FAIRSHARE), "verify_ledger"], env=env, capture_output=True, text=True, timeout=120
    )
    assert broken.returncode == 1 and "seq 3" in broken.stdout + broken.stderr
