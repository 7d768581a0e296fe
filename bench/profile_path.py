"""CPU cost of one request path, in process (a plain script, not a test).

Calls Django's WSGI handler directly, one request after another on one thread (no
gunicorn, no sockets, no concurrency), and prints the CPU time per request
(``time.process_time``) for `/ping` and for the registration API, so the cost of the
request path can be compared without the noise of a shared machine. ``--profile``
adds a cProfile of the registration requests (top functions by own and cumulative time).

    FAIRSHARE_DATA_DIR=/tmp/fs-prof DATABASE_URL= .venv/bin/python bench/profile_path.py
    REDIS_URL=redis://127.0.0.1:6379/6 ... bench/profile_path.py --profile

The database in FAIRSHARE_DATA_DIR (or DATABASE_URL) is seeded on first use.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import os
import pstats
import random
import sys
import time
from typing import Any

WARMUP = 20  # registrations before the timed ones
COUNTED = 20  # registrations after them whose SQL statements are counted


def environ(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "HTTP_HOST": "127.0.0.1",
    }
    for name, value in (headers or {}).items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def call(app, env) -> tuple[int, bytes]:
    status_holder: list[str] = []

    def start_response(status, headers, exc_info=None):
        status_holder.append(status)

    chunks = app(env, start_response)
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return int(status_holder[0].split()[0]), body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("-n", type=int, default=2000, help="registrations to time")
    parser.add_argument("--ping-n", type=int, default=2000, help="/ping requests to time")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--no-idempotency-key", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fairshare.settings")
    os.environ.setdefault("FAIRSHARE_TRUSTED_PROXY_HOPS", "1")
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from fairshare.community.models import Household
    from fairshare.registration.models import Registration
    from fairshare.rounds.models import Round

    if Household.objects.count() < args.households:
        call_command("seed_demo", "--households", str(args.households), "--quiet")
    round_obj = Round.objects.order_by("pk").first()
    taken = set(Registration.objects.values_list("household_id", flat=True))
    free_ids = sorted(set(Household.objects.values_list("pk", flat=True)) - taken)
    wanted = args.n + WARMUP + COUNTED
    picked = random.Random(2020).sample(free_ids, min(wanted, len(free_ids)))
    free = Household.objects.filter(pk__in=picked).select_related("building", "building__committee")
    jobs = [
        (h.building.committee.code, h.building.label, h.room)
        for h in free.iterator(chunk_size=2000)
    ]
    if len(jobs) < wanted:
        print(f"only {len(jobs)} free households; use a fresh FAIRSHARE_DATA_DIR", file=sys.stderr)
        return 2
    app = WSGIHandler()
    path = f"/api/v1/rounds/{round_obj.pk}/registrations"

    def reg_env(i: int, code: str, b: str, room: str):
        body = json.dumps(
            {
                "committee": code,
                "building": b,
                "room": room,
                "name": "王小明",
                "phone": f"139{i:08d}",
            },
            ensure_ascii=False,
        ).encode()
        headers = {"X-Forwarded-For": f"10.9.{i // 4 // 256 % 256}.{i // 4 % 256}"}
        if not args.no_idempotency_key:
            headers["Idempotency-Key"] = f"prof-{os.getpid()}-{i}"
        return environ("POST", path, body, headers)

    envs = [reg_env(i, *job) for i, job in enumerate(jobs)]
    if os.environ.get("PROFILE_GC_FREEZE"):
        import gc

        gc.collect()
        gc.freeze()
        gc.set_threshold(*[int(x) for x in os.environ["PROFILE_GC_FREEZE"].split(",")])
    for _ in range(200):  # warm up /ping and the URL resolver, translations, connections
        call(app, environ("GET", "/ping"))
    for env in envs[:WARMUP]:  # and the registration path (imports on first use, caches)
        call(app, env)
    envs, counted = envs[WARMUP:-COUNTED], envs[-COUNTED:]
    t0 = time.process_time()
    for _ in range(args.ping_n):
        call(app, environ("GET", "/ping"))
    ping_ms = (time.process_time() - t0) / max(1, args.ping_n) * 1000

    profiler = cProfile.Profile() if args.profile else None
    statuses: dict[int, int] = {}
    t0, w0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()

    def one(_acc: None, env: dict[str, Any]) -> None:
        status, _body = call(app, env)
        statuses[status] = statuses.get(status, 0) + 1

    # functools.reduce: a C function that marks the timed loop for
    # ``valgrind --tool=callgrind --collect-atstart=no --toggle-collect=functools_reduce``
    # (instruction counts: repeatable on a busy machine, see BENCHMARKS.md).
    functools.reduce(one, envs, None)
    if profiler:
        profiler.disable()
    cpu_ms = (time.process_time() - t0) / len(envs) * 1000
    wall_ms = (time.perf_counter() - w0) / len(envs) * 1000
    print(f"/ping: {ping_ms:.3f} ms CPU per request")
    print(
        f"registration: {cpu_ms:.3f} ms CPU, {wall_ms:.3f} ms wall per request "
        f"({len(envs)} requests, statuses {statuses}); ratio to /ping {cpu_ms / ping_ms:.2f}x"
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:  # after the timing: it slows queries
        for env in counted:
            call(app, env)
    print(f"SQL statements per registration: {len(queries) / COUNTED:.1f} ({connection.vendor})")
    if profiler:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.top)
            print(out.getvalue())
    return 0 if set(statuses) <= {201} else 1


if __name__ == "__main__":
    sys.exit(main())
