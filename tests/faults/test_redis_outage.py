"""Redis stops under load: registrations and lookups go on, /healthz says so, Redis comes back.

A private ``redis-server`` (free loopback port, never the machine's shared one) backs the
cache and rate limits of a real gunicorn server (SQLite data folder). It is stopped while
threads register households and look up their status: every registration must still be
answered 201 and every lookup 200 (the rate limits count per process meanwhile), quickly;
``/healthz`` answers 200 "degraded" naming the cache (the node still takes registrations,
so a load balancer keeps it). The warning is logged once per worker, not per
request. After Redis starts again on the same port, ``/healthz`` is 200 within seconds, in
the same processes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import REGISTER_PATH, STATUS_PATH, require_registration
from tests.support.liveserver import LiveServer, free_port, http, prepare_data, server_env
from tests.support.load import Answer, Load

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 3.0
RECOVERY_BOUND = 10.0  # seconds after Redis is back
ANSWER_BOUND = 2.0  # an answer during the outage takes at most this
WORKERS = 2


class PrivateRedis:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is needed for the Redis outage test (apt: redis-server)")
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), *options, "--dir", str(self.root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            )
            if probe.stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _describe(answers: list[Answer]) -> str:
    return "\n".join(
        f"{a.name} {a.status} {a.elapsed:.2f}s {a.error} {a.body[:160]!r}" for a in answers[:20]
    )


def test_redis_outage_keeps_registration_working(redis: PrivateRedis, tmp_path: Path):
    env = server_env(
        tmp_path / "data",
        "",
        REDIS_URL=redis.url,
        FAIRSHARE_RL_REGISTER_IP="100000",  # one client address sends the whole load
        FAIRSHARE_RL_STATUS_IP="100000",
        FAIRSHARE_RL_STATUS_PHONE="100000",  # and looks up one ticket again and again
    )
    (tmp_path / "data").mkdir()
    prepare_data(env, households=300)
    with LiveServer(env, workers=WORKERS) as server:
        require_registration(server.url)
        base = server.url
        round_id = json.loads(http("GET", base + "/api/v1/rounds")[2])[0]["id"]
        homes = [  # every household once: (committee, building, room)
            (committee["code"], home["building"], home["room"])
            for committee in json.loads(http("GET", base + "/api/v1/committees")[2])
            for home in json.loads(
                http("GET", base + f"/api/v1/committees/{committee['code']}/households")[2]
            )
        ]
        register_url = base + REGISTER_PATH.replace("{round_id}", str(round_id))
        first = {"name": "王小明", "phone": "13600000000"}
        first.update(zip(("committee", "building", "room"), homes[0], strict=True))
        status, _, body = http("POST", register_url, body=first)
        assert status == 201, body
        ticket = json.loads(body)["ticket"]
        status_url = base + STATUS_PATH.replace("{ticket}", ticket)
        assert http("GET", base + "/healthz")[0] == 200

        def request(n: int):
            if n % 3 == 0:
                return ("healthz", "GET", base + "/healthz", None, {})
            if n % 3 == 1:
                return ("status", "POST", status_url, {"phone": "13600000000"}, {})
            home = homes[1 + n // 3 % (len(homes) - 1)]  # a new household each time
            body = {"name": "王小明", "phone": f"136{n:08d}"}
            body.update(zip(("committee", "building", "room"), home, strict=True))
            return ("register", "POST", register_url, body, {})

        load = Load(request, threads=3, timeout=ANSWER_BOUND + 10).start()
        try:
            time.sleep(1.0)
            redis.stop()
            stopped = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
            restart = time.monotonic()
            redis.start()
            up = time.monotonic()
            recovered_at = None
            while time.monotonic() < up + RECOVERY_BOUND:
                code, _, answer = http("GET", base + "/healthz")
                if code == 200 and json.loads(answer)["status"] == "ok":
                    recovered_at = time.monotonic()
                    break
                time.sleep(0.1)
            time.sleep(0.5)
        finally:
            load.stop()
        during = load.between(stopped, restart)
        answers = load.answers

        assert all(a.status != 0 for a in answers), _describe([a for a in answers if a.status == 0])
        bad = [a for a in answers if a.status >= 500 and a.name != "healthz"]
        assert not bad, _describe(bad)  # never a 500, never a 503: registration goes on
        registrations = [a for a in during if a.name == "register"]
        lookups = [a for a in during if a.name == "status"]
        assert len(registrations) >= 5 and len(lookups) >= 5, len(during)
        # A registration may land on a household registered earlier in the run (200/409).
        assert all(a.status in (200, 201, 409) for a in registrations), _describe(
            [a for a in registrations if a.status not in (200, 201, 409)]
        )
        assert any(a.status == 201 for a in registrations)
        assert all(a.status == 200 for a in lookups), _describe(
            [a for a in lookups if a.status != 200]
        )
        assert max(a.elapsed for a in during) < ANSWER_BOUND, _describe(during)
        health = [a for a in during if a.name == "healthz"]
        assert health and all(a.status == 200 for a in health), _describe(
            [a for a in health if a.status != 200]
        )
        assert json.loads(health[-1].body)["status"] == "degraded"
        assert json.loads(health[-1].body)["down"] == ["cache"]

        assert recovered_at is not None, server.log()
        assert recovered_at - up < RECOVERY_BOUND
        log = server.log_path.read_text(errors="replace")
        warnings = log.count("rate-limit store unreachable")
        assert 1 <= warnings <= WORKERS, log  # rate-limited: once per worker, not per request
        print(
            f"redis outage: {len(registrations)} registrations and {len(lookups)} lookups "
            f"answered while down, healthz back {recovered_at - up:.2f} s after restart, "
            f"{warnings} warning line(s)"
        )
