"""The benchmark's HTTP steps before allocation: baselines, the registration rush (open
model, then one step at 80 % of saturation) and the registration ceilings (full stack and
the raw-SQL floor of ``bench/benchfloor/``). Each step writes into ``bench.result``."""

from __future__ import annotations

import json
import random
import time
from typing import TYPE_CHECKING, Any

import dbwork
from harness import StaticServer, http, log, run_loadgen, write_jobs

if TYPE_CHECKING:
    from run import Bench

FULL_STEPS = "100:5,200:5,300:5,400:5,500:5,600:5,800:5,1000:5,1250:5,1500:5"
# After the ramp: one step at this share of the saturation throughput (the peak accepted
# rate of the ramp), where the latency target (p99 < 250 ms) is judged.
AT_SHARE, AT_SECONDS = 0.8, 8
PING_STEPS = "500:4,1000:4,1500:4,2000:4,2500:4,3000:4,4000:4"


def cpu_cost(cpu_seconds: float, ok: int) -> dict[str, Any]:
    """Worker CPU time of a step and per successful answer: what an idle machine's cores
    could serve is about cores / cpu_s_per_ok (the load generator and database aside)."""
    return {
        "worker_cpu_s": round(cpu_seconds, 2),
        "worker_cpu_ms_per_ok": round(1000 * cpu_seconds / ok, 3) if ok else None,
    }


def internal_errors(res: dict[str, Any]) -> dict[str, Any]:
    """HTTP 500 answers are bugs at any load (503 "busy, retry" is not counted here)."""
    n = sum(s.get("errors", {}).get("http_500", 0) for s in res["steps"])
    return {"ok": n == 0, "detail": f"{n} answers with HTTP 500"}


def baselines(bench: Bench) -> None:
    """What this machine allows before our code: the load generator, /ping, raw inserts."""
    lg = _loadgen_ceiling(bench)
    ping = _ping_runs(bench)
    short = bench.smoke
    bench.result["steps"]["raw_insert"] = dbwork.raw_insert_rate(
        database_url=bench.database_url, data_dir=bench.data_dir, seconds=0.5 if short else 5
    )
    log(
        f"baselines: loadgen {lg['steps'][0]['ok_per_s']}/s, "
        f"/ping {ping['steps'][0]['ok_per_s']}/s, "
        f"raw insert {bench.result['steps']['raw_insert']['rows_per_s']} rows/s"
    )


def _loadgen_ceiling(bench: Bench) -> dict[str, Any]:
    """The load generator alone against its own minimal server (the first baseline)."""
    short = bench.smoke
    # The generator's ceiling against a server that treats connections like ours:
    # closes each one (sync workers) or keeps it alive (gthread).
    static = StaticServer(bench.args.port + 1, close=bench.worker_class() == "sync")
    try:
        lg = run_loadgen(
            bench.args.port + 1,
            "--model",
            "closed",
            "--clients",
            "50",
            "--duration",
            "1" if short else "5",
            "--path",
            "/ping",
        )
    finally:
        static.stop()
    bench.result["steps"]["loadgen_ceiling"] = lg["steps"][0] | {
        "what": "load generator alone vs a minimal asyncio server that closes each "
        "connection like gunicorn's sync workers (50 closed-loop clients)"
    }
    return lg


def _ping_runs(bench: Bench) -> dict[str, Any]:
    """/ping (no database) closed-loop, paced like the scanners, and open-model steps."""
    svc = bench.service
    assert svc is not None
    short = bench.smoke
    prof = bench.profiler("ping")
    cpu0 = svc.cpu_seconds()
    ping = run_loadgen(
        svc.port,
        "--model",
        "closed",
        "--clients",
        "50",
        "--duration",
        "1" if short else "8",
        "--path",
        "/ping",
    )
    bench.result["steps"]["ping_closed"] = ping["steps"][0] | {
        "profile": bench.finish(prof),
        **cpu_cost(svc.cpu_seconds() - cpu0, ping["steps"][0].get("ok", 0)),
    }
    # The floor of the scanners' pace on this machine at this moment: /ping (no DB)
    # sent by 50 clients once a second each, measured like the redemption runs.
    cpu0 = svc.cpu_seconds()
    ping_paced = run_loadgen(
        svc.port,
        "--model",
        "paced",
        "--clients",
        "50",
        "--interval",
        "1",
        "--duration",
        "1" if short else "10",
        "--path",
        "/ping",
    )
    bench.result["steps"]["ping_paced_1s"] = ping_paced["steps"][0] | cpu_cost(
        svc.cpu_seconds() - cpu0, ping_paced["steps"][0].get("ok", 0)
    )
    if not short and not bench.args.only:
        ping_open = run_loadgen(
            svc.port,
            "--model",
            "open",
            "--steps",
            PING_STEPS,
            "--path",
            "/ping",
            "--drain",
            "5",
        )
        bench.result["steps"]["ping_open"] = {"steps": ping_open["steps"]}
    return ping


def rush(bench: Bench) -> None:
    svc = bench.service
    assert svc is not None
    round_id = dbwork.open_round_id()
    steps = "30:2" if bench.smoke else (bench.args.steps or FULL_STEPS)
    ramp = [(float(r), float(d)) for r, d in (s.split(":") for s in steps.split(","))]
    needed = sum(int(r * d) for r, d in ramp)
    if not bench.smoke:  # room for the step at 80 % of saturation
        needed += int(max(r for r, _ in ramp) * AT_SHARE * AT_SECONDS)
    jobs = registration_jobs(bench, round_id, needed)
    log(f"registration rush: {len(jobs)} distinct households, steps {steps}")
    jobs_file = write_jobs(jobs, bench.work / "registration-jobs.jsonl")
    prof = bench.profiler("registration")
    cpu0 = svc.cpu_seconds()
    res = run_loadgen(
        svc.port,
        "--model",
        "open",
        "--steps",
        steps,
        "--jobs",
        str(jobs_file),
        "--expect",
        "201",
        "--drain",
        "10",
    )
    ok = sum(s.get("ok", 0) for s in res["steps"])
    cpu = cpu_cost(svc.cpu_seconds() - cpu0, ok)
    at80 = rush_at_share(bench, res, jobs[sum(s.get("requests", 0) for s in res["steps"]) :])
    bench.result["steps"]["registration_rush"] = {
        "steps": res["steps"],
        **cpu,
        "profile": bench.finish(prof),
        "at_share": at80["summary"] if at80 else None,
    }
    tickets = res["tickets"] + (at80["tickets"] if at80 else [])
    bench.result["invariants"]["after_rush"] = dbwork.invariants(acked_tickets=tickets)
    bench.result["invariants"]["after_rush"]["no_internal_errors"] = internal_errors(
        {"steps": res["steps"] + ([at80["summary"]] if at80 else [])}
    )


def ceilings(bench: Bench) -> None:
    """Closed-loop ceilings (50 clients, like /ping's) of the full registration endpoint
    and of the raw-SQL floor view (bench/benchfloor/views.py: the issue's calibration view),
    each on a fresh round of its own, so their ratio says what the full stack costs."""
    svc = bench.service
    assert svc is not None
    seconds = "1" if bench.smoke else "8"
    out: dict[str, Any] = {}
    tickets: list[str] = []
    for name in ("full_stack", "raw_sql_floor"):
        round_id = dbwork.extra_round_id(f"bench {name}")
        needed = 400 if bench.smoke else 20_000
        path = None if name == "full_stack" else f"/bench/floor/{round_id}/register"
        jobs = registration_jobs(bench, round_id, needed, path=path)
        jobs_file = write_jobs(jobs, bench.work / f"ceiling-{name}.jsonl")
        cpu0 = svc.cpu_seconds()
        res = run_loadgen(
            svc.port,
            "--model",
            "closed",
            "--clients",
            "50",
            "--duration",
            seconds,
            "--jobs",
            str(jobs_file),
            "--expect",
            "201",
        )
        step = res["steps"][0]
        out[name] = step | cpu_cost(svc.cpu_seconds() - cpu0, step.get("ok", 0))
        tickets += res["tickets"] if name == "full_stack" else []
        log(f"ceiling {name}: {step.get('ok_per_s')}/s")
    bench.result["steps"]["registration_ceilings"] = out
    bench.result["invariants"]["after_ceilings"] = dbwork.invariants(acked_tickets=tickets)


def rush_at_share(bench: Bench, ramp: dict[str, Any], jobs: list[dict[str, Any]]) -> Any:
    """One open-model step at AT_SHARE of the ramp's peak accepted rate (fresh
    households), after a pause; None in smoke mode or when the ramp never saturated
    (then every step was below saturation and the ramp itself says it)."""
    if bench.smoke or not any(s.get("saturated") for s in ramp["steps"]):
        return None
    peak = max(s.get("ok_per_s", 0) for s in ramp["steps"])
    rate = max(1, int(peak * AT_SHARE))
    jobs = jobs[: rate * AT_SECONDS]
    if len(jobs) < rate * AT_SECONDS:
        bench.result["notes"].append("not enough fresh households for the 80 % step")
        return None
    # let the saturated step drain and the idle keep-alive connections (5 s) close, so
    # the step does not race a server-side close on a reused connection
    time.sleep(7)
    log(f"registration at {AT_SHARE:.0%} of saturation: {rate}/s for {AT_SECONDS} s")
    path = write_jobs(jobs, bench.work / "registration-jobs-80.jsonl")
    res = run_loadgen(
        bench.service.port,  # type: ignore[union-attr]
        "--model",
        "open",
        "--steps",
        f"{rate}:{AT_SECONDS}",
        "--jobs",
        str(path),
        "--expect",
        "201",
        "--drain",
        "10",
    )
    summary = res["steps"][0] | {"share_of_peak": AT_SHARE, "peak_ok_per_s": peak}
    return {"summary": summary, "tickets": res["tickets"]}


def roster_households(bench: Bench, needed: int) -> list[tuple[str, str, str]]:
    """(committee code, building, room) of the seeded roster, read through the API, in a
    fixed shuffled order; read once per run (the roster does not change)."""
    cached = getattr(bench, "_roster", None)
    if cached is not None and (cached[1] or len(cached[0]) >= needed * 3):
        return cached[0]
    svc = bench.service
    assert svc is not None
    status, committees = http("GET", svc.url("/api/v1/committees"))
    if status != 200:
        raise RuntimeError(f"GET /api/v1/committees answered {status}")
    households: list[tuple[str, str, str]] = []
    complete = True
    for c in committees:
        st, rows = http("GET", svc.url(f"/api/v1/committees/{c['code']}/households"))
        if st != 200:
            raise RuntimeError(f"GET households of {c['code']} answered {st}")
        households += [(c["code"], h["building"], h["room"]) for h in rows]
        if bench.smoke and len(households) >= needed * 3:
            complete = False
            break
    random.Random(2020).shuffle(households)
    bench._roster = (households, complete)  # type: ignore[attr-defined]
    return households


def registration_jobs(
    bench: Bench, round_id: int, needed: int, path: str | None = None
) -> list[dict[str, Any]]:
    households = roster_households(bench, needed)
    path = path or f"/api/v1/rounds/{round_id}/registrations"
    return [
        {
            "method": "POST",
            "path": path,
            "body": json.dumps(
                {
                    "committee": code,
                    "building": b,
                    "room": room,
                    "name": dbwork.NAMES[i % 20],
                    "phone": dbwork.mobile(i + 1),
                },
                ensure_ascii=False,
            ),
            "headers": {
                "X-Forwarded-For": f"10.{i // 4 // 65536 % 256}.{i // 4 // 256 % 256}"
                f".{i // 4 % 256}",
                # as a careful client sends it, so the idempotency layer is exercised
                "Idempotency-Key": f"bench-{round_id}-{i}",
            },
        }
        for i, (code, b, room) in enumerate(households[:needed])
    ]
