"""Issue 17's throughput steps: wrk, side by side with a bare Django app, in one run.

With the service up, the bare app of ``bench/bare/`` is started on ``--port`` + 2 by the
same gunicorn configuration (worker class, workers, threads) and the same ``DATABASES``;
then wrk (``wrkrun.py``, closed loop, 32 connections, 2 threads, 8 s a step, 1 s in
--smoke) drives, one after the other:

1. the bare app's trivial JSON view and 2. Fairshare's ``/ping`` (neither touches the
   database);
3. the bare app's raw-SQL registration (``benchfloor.views.floor_register``: lock the
   counter, insert, chain, commit), 4. the same view behind Fairshare's settings and
   middleware (``FAIRSHARE_BENCH_FLOOR``'s route, ``/bench/floor/<round>/register``) and
   5. the full ``POST /api/v1/rounds/{id}/registrations``;

each registration step on a fresh round of its own, with one distinct household of the
seeded roster per request (``wrk_steps.lua`` walks the list), so every request is a real
new registration. Before them, both servers register for 2 s (untimed, rounds of their
own) so every worker thread has its database connection open. Each figure gets its
ratio to the bare app's corresponding view (/ping to the trivial view, the floor and the
full endpoint to the raw-SQL view), the server's CPU per answer and wrk's own CPU share.
The invariants then check every 2xx ticket.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import dbwork
from harness import BENCH_DIR, Service, log
from steps_registration import cpu_cost, registration_jobs
from wrkrun import ensure_wrk, run_wrk, write_registration_lines, wrk_version

if TYPE_CHECKING:
    from run import Bench

CONNECTIONS, THREADS, SECONDS = 32, 2, 8
# (key, server, label, baseline key): the order the steps run in
STEPS = (
    ("bare_trivial", "bare", "bare Django app, trivial JSON view", None),
    ("ping", "fairshare", "Fairshare /ping", "bare_trivial"),
    ("bare_raw_sql", "bare", "bare Django app, raw-SQL registration view", None),
    ("floor", "fairshare", "Fairshare raw-SQL floor view (FAIRSHARE_BENCH_FLOOR)", "bare_raw_sql"),
    ("full", "fairshare", "Fairshare full registration endpoint", "bare_raw_sql"),
)
FLOOR_PATH = "/bench/floor/{round_id}/register"


def bare_service(bench: Bench) -> Service:
    from fairshare.operations.management.commands.serve import DEFAULT_THREADS

    threads = bench.args.threads or int(bench.env.get("FAIRSHARE_THREADS") or DEFAULT_THREADS)
    return Service(
        port=bench.args.port + 2,
        workers=bench.args.workers,
        env=bench.env,
        logfile=bench.work / "bare-server.log",
        argv=[
            sys.executable,
            str(BENCH_DIR / "bare" / "serve.py"),
            "--port",
            str(bench.args.port + 2),
            "--workers",
            str(bench.args.workers),
            "--worker-class",
            bench.worker_class(),
            "--threads",
            str(threads),
        ],
        health_path="/ping",
    )


def _jobs_file(bench: Bench, key: str) -> tuple[Any, int]:
    """A fresh round and the lines of its distinct registrations for ``key``'s step."""
    round_id = dbwork.extra_round_id(f"bench wrk {key}")
    needed = 300 if bench.smoke else 50_000  # every household of the seeded roster
    full = key in ("full", "warm_full")
    path = None if full else FLOOR_PATH.format(round_id=round_id)
    jobs = registration_jobs(bench, round_id, needed, path=path)
    return write_registration_lines(jobs, bench.work / f"wrk-{key}.tsv"), len(jobs)


def _warm_up(
    wrk: str,
    servers: dict[str, Service],
    files: dict[str, tuple[Any, int]],
    out: dict[str, Any],
    smoke: bool,
) -> list[str]:
    """Not timed: each server registers for a while on a round of its own, so every worker
    thread has opened its database connection and run the path before the timed steps."""
    tickets: list[str] = []
    for key, target in servers.items():
        warm = run_wrk(
            wrk,
            target.url("/"),
            connections=CONNECTIONS,
            threads=THREADS,
            seconds=1 if smoke else 2,
            jobs_file=files[key][0],
        )
        tickets += warm.pop("tickets")
        out[key] = {"ok": warm["ok"], "non_2xx": warm["non_2xx"], "status": warm["status"]}
    return tickets


def side_by_side(bench: Bench) -> None:
    wrk, how = ensure_wrk()
    if wrk is None:
        bench.result["steps"]["wrk"] = {"not_available": how}
        bench.result["notes"].append(f"wrk steps not run: {how}")
        log(f"wrk steps not run: {how}")
        return
    svc = bench.service
    assert svc is not None
    seconds = 1 if bench.smoke else SECONDS
    files = {
        k: _jobs_file(bench, k) for k in ("warm_bare", "warm_full", "bare_raw_sql", "floor", "full")
    }
    bare = bare_service(bench)
    bare.start()
    log(f"bare Django app up on :{bare.port} with {bare.workers} workers")
    out: dict[str, Any] = {
        "wrk": f"{wrk} ({wrk_version(wrk)}; {how})",
        "connections": CONNECTIONS,
        "threads": THREADS,
        "seconds": seconds,
        "bare_server": " ".join(bare.argv[1:] if bare.argv else []),
    }
    tickets: list[str] = []
    try:
        tickets += _warm_up(wrk, {"warm_bare": bare, "warm_full": svc}, files, out, bench.smoke)
        for key, server, label, base in STEPS:
            target = bare if server == "bare" else svc
            jobs = files.get(key) if key not in ("bare_trivial", "ping") else None
            path = "/ping" if jobs is None else "/"
            cpu0 = target.cpu_seconds()
            step = run_wrk(
                wrk,
                target.url(path),
                connections=CONNECTIONS,
                threads=THREADS,
                seconds=seconds,
                jobs_file=jobs[0] if jobs else None,
            )
            step |= cpu_cost(target.cpu_seconds() - cpu0, step["ok"])
            tickets += step.pop("tickets")
            step |= {
                "label": label,
                "baseline": base,
                "households_listed": jobs[1] if jobs else None,
            }
            if base:
                b = out[base]["ok_per_s"]
                step["ratio_to_baseline"] = round(step["ok_per_s"] / b, 3) if b else None
            out[key] = step
            log(
                f"wrk {key}: {step['ok_per_s']}/s, non-2xx {step['non_2xx']}, "
                f"wrk CPU {step['generator_cores']} cores"
            )
            time.sleep(0.5 if bench.smoke else 2)
    finally:
        bare.stop()
    bench.result["steps"]["wrk"] = out
    checks = dbwork.invariants(acked_tickets=tickets)
    n500 = sum(
        out[k]["status"].get("500", 0)
        for k in ("warm_bare", "warm_full", *(key for key, *_ in STEPS))
    )
    checks["no_internal_errors"] = {"ok": n500 == 0, "detail": f"{n500} answers with HTTP 500"}
    bench.result["invariants"]["after_wrk"] = checks
