"""kill -9 of gunicorn (master and workers) during a registration burst loses nothing.

Threads register households of KJ02 through ``POST /api/v1/rounds/{round}/registrations``
on the private PostgreSQL; mid-burst the whole server process group gets SIGKILL. After
a restart, every registration that was answered 201 must be stored with the same ticket
and queue number, queue numbers must be unique, and ``fairshare verify_ledger`` must pass.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

from tests.faults.conftest import REGISTER_PATH, STATUS_PATH, require_registration
from tests.support.liveserver import FAIRSHARE, LiveServer, http

pytestmark = pytest.mark.faults

THREADS = 6


def test_kill9_during_registration_burst_loses_no_acknowledged_registration(pg_env):
    server = LiveServer(pg_env, workers=2).start()
    try:
        require_registration(server.url)
        round_id = json.loads(http("GET", server.url + "/api/v1/rounds")[2])[0]["id"]
        homes = json.loads(http("GET", server.url + "/api/v1/committees/KJ02/households")[2])
        url = server.url + REGISTER_PATH.replace("{round_id}", str(round_id))
        acknowledged: list[tuple[str, str, int]] = []  # (ticket, phone, queue_number)
        lock = threading.Lock()
        next_home = iter(range(len(homes)))

        def burst() -> None:
            while True:
                with lock:
                    i = next(next_home, None)
                if i is None:
                    return
                phone = f"137{i:08d}"
                body = {
                    "committee": "KJ02",
                    "building": homes[i]["building"],
                    "room": homes[i]["room"],
                    "name": "李小红",
                    "phone": phone,
                }
                try:
                    status, _, data = http("POST", url, body=body, timeout=10)
                except OSError:
                    continue  # the server died under us: not acknowledged
                if status == 201:
                    answer = json.loads(data)
                    with lock:
                        acknowledged.append((answer["ticket"], phone, answer["queue_number"]))

        threads = [threading.Thread(target=burst) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        server.kill9()
        for thread in threads:
            thread.join(timeout=30)
        assert acknowledged, "no registration was acknowledged before the kill"
        server.start()

        for ticket, phone, queue_number in acknowledged:
            status_url = server.url + STATUS_PATH.replace("{ticket}", ticket)
            status, _, data = http("POST", status_url, body={"phone": phone})
            assert status == 200, (ticket, status, data[:200])
            assert json.loads(data)["queue_number"] == queue_number
        numbers = [q for _, _, q in acknowledged]
        assert len(set(numbers)) == len(numbers)
        verify = subprocess.run(
            [FAIRSHARE, "verify_ledger"], env=pg_env, capture_output=True, text=True, check=False
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
    finally:
        server.stop()
