"""PostgreSQL stops during load: clients get clean 503s, the same processes recover.

A private PostgreSQL server (on a free loopback port, never the shared server) is stopped with
``pg_ctl stop -m fast`` while threads send reads and writes (token logins,
committee and round lists, the home page, and registrations once that endpoint
is in the build). While it is down every answer must be a 503 with Retry-After
(JSON ``code: unavailable`` on the API), answered quickly; after it starts again
the same gunicorn master and workers must answer 200 within a few seconds.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.faults.conftest import REGISTER_PATH, has_operation
from tests.support.liveserver import LiveServer, api_token, http
from tests.support.load import Answer, Load
from tests.support.pgcluster import PrivateCluster

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 3.0
RECOVERY_BOUND = 10.0  # seconds after PostgreSQL is back
ANSWER_BOUND = 10.0  # no request may hang longer than this


def _requests(server: LiveServer):
    base = server.url
    token = api_token(base, "committee01")
    staff = {"Authorization": f"Bearer {token}"}
    requests = [
        (
            "login",
            "POST",
            base + "/api/v1/auth/token",
            {"username": "committee02", "password": "demo"},
            {},
        ),
        ("committees", "GET", base + "/api/v1/committees", None, {}),
        ("rounds", "GET", base + "/api/v1/rounds", None, staff),
        ("home", "GET", base + "/", None, {}),
    ]
    if has_operation(base, REGISTER_PATH):
        round_id = json.loads(http("GET", base + "/api/v1/rounds")[2])[0]["id"]
        homes = json.loads(http("GET", base + "/api/v1/committees/KJ01/households")[2])
        url = base + REGISTER_PATH.replace("{round_id}", str(round_id))

        def register(n: int):
            home = homes[n % len(homes)]
            body = {
                "committee": "KJ01",
                "building": home["building"],
                "room": home["room"],
                "name": "王小明",
                "phone": f"139{n:08d}",
            }
            return ("register", "POST", url, body, {})

        return lambda n: register(n) if n % 5 == 0 else requests[n % len(requests)]
    return lambda n: requests[n % len(requests)]


def _describe(answers: list[Answer]) -> str:
    return "\n".join(
        f"{a.name} {a.status} {a.elapsed:.2f}s {a.error} {a.body[:120]!r}" for a in answers[:20]
    )


def test_postgres_outage_gives_503_and_recovers_without_restart(
    pg_cluster: PrivateCluster, pg_env: dict[str, str]
):
    with LiveServer(pg_env, workers=2) as server:
        master = server.proc.pid
        workers_before = server.worker_pids()
        load = Load(_requests(server), threads=4, timeout=ANSWER_BOUND + 5).start()
        try:
            time.sleep(2.0)
            stop_begin = time.monotonic()
            pg_cluster.stop("fast")
            stopped = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
            start_begin = time.monotonic()
            pg_cluster.start()
            up = time.monotonic()
            recovered_at = None
            names = {"login", "committees", "rounds", "home"}
            while time.monotonic() < up + RECOVERY_BOUND + 5:
                fine = {a.name for a in load.between(up, time.monotonic()) if a.status == 200}
                if names <= fine:
                    recovered_at = time.monotonic()
                    break
                time.sleep(0.1)
            time.sleep(1.5)
        finally:
            load.stop()
        answers = load.answers
        before = load.between(0, stop_begin)
        during = load.between(stopped, start_begin)
        after = load.between(up, time.monotonic())

        # Nothing hangs, nothing goes unanswered, no 5xx other than 503, ever.
        assert all(a.status != 0 for a in answers), _describe([a for a in answers if a.status == 0])
        assert max(a.elapsed for a in answers) < ANSWER_BOUND
        bad = [a for a in answers if a.status >= 500 and a.status != 503]
        assert not bad, _describe(bad)
        assert before and all(a.status < 500 for a in before), _describe(before)

        # While PostgreSQL is down: clean 503s only.
        assert len(during) >= 10, f"too little load during the outage: {len(during)}"
        assert all(a.status == 503 for a in during), _describe(
            [a for a in during if a.status != 503]
        )
        for answer in during:
            assert int(answer.headers.get("Retry-After", "0")) > 0, answer
            if answer.name == "home":  # the site's 503 page, in the default language
                assert answer.headers["Content-Type"].startswith("text/html")
                assert "请稍后重试" in answer.body.decode()
            else:
                body = json.loads(answer.body)
                assert body["code"] == "unavailable" and "请稍后重试" in body["detail"]

        print(
            f"outage: {len(before)} answers before, {len(during)} during (all 503), "
            f"recovered {recovered_at - up if recovered_at else -1:.2f} s after restart"
        )
        # Back up: the same processes answer again, quickly.
        assert recovered_at is not None, _describe([a for a in after if a.status != 200][-20:])
        assert recovered_at - up < RECOVERY_BOUND
        assert server.proc.poll() is None and server.proc.pid == master
        assert server.worker_pids() == workers_before, "gunicorn workers were restarted"
        late = [a for a in after if a.started > recovered_at]
        assert late and all(a.status < 500 for a in late), _describe(late)
