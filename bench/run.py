"""``make bench``: one benchmark run of the midnight rush, side by side with its baselines.

    .venv/bin/python bench/run.py [--large] [--smoke] [--workers 4] [--port 8110]

PostgreSQL when DATABASE_URL is set (the database is dropped and re-created: its name
must contain "bench"), SQLite in a fresh data folder otherwise. See BENCHMARKS.md.
Exit status: 0 when every invariant held, 1 when one failed, 2 when the harness broke.
A step whose endpoint or service is missing on this build is reported as
"not available on this build", never with a number.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dbwork
from harness import (
    BENCH_DIR,
    ROOT,
    Profiler,
    Service,
    StaticServer,
    fairshare,
    has_endpoint,
    http,
    log,
    openapi_paths,
    redis_reachable,
    run_loadgen,
    write_jobs,
)
from report import machine_info, print_table

NA = "not available on this build"
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


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.smoke = args.smoke
        self.database_url = os.environ.get("DATABASE_URL", "")
        self.data_dir = Path(args.data_dir).resolve()
        self.env = {
            **os.environ,
            "FAIRSHARE_DATA_DIR": str(self.data_dir),
            "DATABASE_URL": self.database_url,
            "FAIRSHARE_DEBUG": "false",
            "FAIRSHARE_SMS_BACKEND": "file",
            # Rate limits stay on; the load generator stands for many residents
            # behind a trusted proxy (a few households per address, under the limit).
            "FAIRSHARE_RATELIMIT_PROXY_HEADER": "HTTP_X_FORWARDED_FOR",
            # The product's settings and URLs plus the raw-SQL registration floor
            # (bench/benchfloor/), for the ceilings step.
            "DJANGO_SETTINGS_MODULE": "benchfloor.settings",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(BENCH_DIR), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
        # As in production: Redis for the cache and the rate limits when it is reachable
        # (``--no-redis`` compares with the database cache).
        self.redis_url = "" if args.no_redis else redis_reachable(args.redis_url)
        if self.redis_url:
            self.env["REDIS_URL"] = self.redis_url
        else:
            self.env.pop("REDIS_URL", None)
        self.work = self.data_dir / "bench-work"
        self.result: dict[str, Any] = {
            "mode": "smoke" if self.smoke else ("large" if args.large else "standard"),
            "steps": {},
            "cache": f"redis ({self.redis_url})" if self.redis_url else "database cache",
            "invariants": {},
            "notes": [],
        }
        self.service: Service | None = None
        self.households = 300 if self.smoke else (500_000 if args.large else 44_270)

    # --- set-up -------------------------------------------------------------------------
    def setup(self) -> None:
        vendor = dbwork.prepare_database(database_url=self.database_url, data_dir=self.data_dir)
        self.work.mkdir()
        self.result["database"] = vendor
        log(f"fresh {vendor} database; migrating")
        fairshare("migrate", "-v0", env=self.env)
        fairshare("createcachetable", "-v0", env=self.env)  # as `make demo` does
        self.seed(self.households)
        dbwork.django_setup(self.env)
        self.service = Service(
            port=self.args.port,
            workers=self.args.workers,
            env=self.env,
            logfile=self.work / "server.log",
            extra=self.serve_args(),
        )
        self.service.start()
        log(f"service up on :{self.args.port} with {self.args.workers} workers")

    def worker_class(self) -> str:
        from fairshare.operations.management.commands.serve import DEFAULT_WORKER_CLASS

        return self.args.worker_class or self.env.get(
            "FAIRSHARE_WORKER_CLASS", DEFAULT_WORKER_CLASS
        )

    def serve_args(self) -> tuple[str, ...]:
        extra: list[str] = []
        if self.args.worker_class:
            extra += ["--worker-class", self.args.worker_class]
        if self.args.threads:
            extra += ["--threads", str(self.args.threads)]
        return tuple(extra)

    def seed(self, households: int, *, force: bool = False) -> None:
        t0 = time.perf_counter()
        args = ["seed_demo", "--households", str(households), "--quiet"]
        proc = fairshare(*args, *(["--force"] if force else []), env=self.env, check=False)
        seconds = round(time.perf_counter() - t0, 1)
        entry = {"households": households, "seconds": seconds, "ok": proc.returncode == 0}
        if proc.returncode != 0:
            entry["error"] = (proc.stderr or proc.stdout)[-1500:]
            self.result["notes"].append(f"seed_demo --households {households} failed")
            raise RuntimeError(f"seed_demo failed: {entry['error']}")
        self.result.setdefault("seeds", []).append(entry)
        log(f"seeded {households:,} households in {seconds} s")

    # --- steps --------------------------------------------------------------------------
    def baselines(self) -> None:
        svc = self.service
        assert svc is not None
        short = self.smoke
        # The generator's ceiling against a server that treats connections like ours:
        # closes each one (sync workers) or keeps it alive (gthread).
        static = StaticServer(self.args.port + 1, close=self.worker_class() == "sync")
        try:
            lg = run_loadgen(
                self.args.port + 1,
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
        self.result["steps"]["loadgen_ceiling"] = lg["steps"][0] | {
            "what": "load generator alone vs a minimal asyncio server that closes each "
            "connection like gunicorn's sync workers (50 closed-loop clients)"
        }
        prof = self.profiler("ping")
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
        self.result["steps"]["ping_closed"] = ping["steps"][0] | {
            "profile": self.finish(prof),
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
        self.result["steps"]["ping_paced_1s"] = ping_paced["steps"][0] | cpu_cost(
            svc.cpu_seconds() - cpu0, ping_paced["steps"][0].get("ok", 0)
        )
        if not short and not self.args.only:
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
            self.result["steps"]["ping_open"] = {"steps": ping_open["steps"]}
        self.result["steps"]["raw_insert"] = dbwork.raw_insert_rate(
            database_url=self.database_url, data_dir=self.data_dir, seconds=0.5 if short else 5
        )
        log(
            f"baselines: loadgen {lg['steps'][0]['ok_per_s']}/s, "
            f"/ping {ping['steps'][0]['ok_per_s']}/s, "
            f"raw insert {self.result['steps']['raw_insert']['rows_per_s']} rows/s"
        )

    def rush(self, paths: dict[str, set[str]]) -> None:
        svc = self.service
        assert svc is not None
        if not has_endpoint(paths, "post", "/api/v1/rounds/{round}/registrations"):
            self.result["steps"]["registration_rush"] = {"not_available": NA}
            log(f"registration rush: {NA}")
            return
        round_id = dbwork.open_round_id()
        steps = "30:2" if self.smoke else (self.args.steps or FULL_STEPS)
        ramp = [(float(r), float(d)) for r, d in (s.split(":") for s in steps.split(","))]
        needed = sum(int(r * d) for r, d in ramp)
        if not self.smoke:  # room for the step at 80 % of saturation
            needed += int(max(r for r, _ in ramp) * AT_SHARE * AT_SECONDS)
        jobs = self.registration_jobs(round_id, needed)
        log(f"registration rush: {len(jobs)} distinct households, steps {steps}")
        jobs_file = write_jobs(jobs, self.work / "registration-jobs.jsonl")
        prof = self.profiler("registration")
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
        at80 = self.rush_at_share(res, jobs[sum(s.get("requests", 0) for s in res["steps"]) :])
        self.result["steps"]["registration_rush"] = {
            "steps": res["steps"],
            **cpu,
            "profile": self.finish(prof),
            "at_share": at80["summary"] if at80 else None,
        }
        tickets = res["tickets"] + (at80["tickets"] if at80 else [])
        self.result["invariants"]["after_rush"] = dbwork.invariants(acked_tickets=tickets)
        self.result["invariants"]["after_rush"]["no_internal_errors"] = internal_errors(
            {"steps": res["steps"] + ([at80["summary"]] if at80 else [])}
        )

    def ceilings(self) -> None:
        """Closed-loop ceilings (50 clients, like /ping's) of the full registration endpoint
        and of the raw-SQL floor view (bench/benchfloor/views.py: the issue's calibration view),
        each on a fresh round of its own, so their ratio says what the full stack costs."""
        svc = self.service
        assert svc is not None
        seconds = "1" if self.smoke else "8"
        out: dict[str, Any] = {}
        tickets: list[str] = []
        for name in ("full_stack", "raw_sql_floor"):
            round_id = dbwork.extra_round_id(f"bench {name}")
            needed = 400 if self.smoke else 20_000
            path = None if name == "full_stack" else f"/bench/floor/{round_id}/register"
            jobs = self.registration_jobs(round_id, needed, path=path)
            jobs_file = write_jobs(jobs, self.work / f"ceiling-{name}.jsonl")
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
        self.result["steps"]["registration_ceilings"] = out
        self.result["invariants"]["after_ceilings"] = dbwork.invariants(acked_tickets=tickets)

    def rush_at_share(self, ramp: dict[str, Any], jobs: list[dict[str, Any]]) -> Any:
        """One open-model step at AT_SHARE of the ramp's peak accepted rate (fresh
        households), after a pause; None in smoke mode or when the ramp never saturated
        (then every step was below saturation and the ramp itself says it)."""
        if self.smoke or not any(s.get("saturated") for s in ramp["steps"]):
            return None
        peak = max(s.get("ok_per_s", 0) for s in ramp["steps"])
        rate = max(1, int(peak * AT_SHARE))
        jobs = jobs[: rate * AT_SECONDS]
        if len(jobs) < rate * AT_SECONDS:
            self.result["notes"].append("not enough fresh households for the 80 % step")
            return None
        # let the saturated step drain and the idle keep-alive connections (5 s) close, so
        # the step does not race a server-side close on a reused connection
        time.sleep(7)
        log(f"registration at {AT_SHARE:.0%} of saturation: {rate}/s for {AT_SECONDS} s")
        path = write_jobs(jobs, self.work / "registration-jobs-80.jsonl")
        res = run_loadgen(
            self.service.port,  # type: ignore[union-attr]
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

    def registration_jobs(
        self, round_id: int, needed: int, path: str | None = None
    ) -> list[dict[str, Any]]:
        svc = self.service
        assert svc is not None
        status, committees = http("GET", svc.url("/api/v1/committees"))
        if status != 200:
            raise RuntimeError(f"GET /api/v1/committees answered {status}")
        households: list[tuple[str, str, str]] = []
        for c in committees:
            st, rows = http("GET", svc.url(f"/api/v1/committees/{c['code']}/households"))
            if st != 200:
                raise RuntimeError(f"GET households of {c['code']} answered {st}")
            households += [(c["code"], h["building"], h["room"]) for h in rows]
            if self.smoke and len(households) >= needed * 3:
                break
        random.Random(2020).shuffle(households)
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

    def allocation(self) -> None:
        target = 150 if self.smoke else 100_000
        if self.args.only == "redemption":
            target = 150 if self.smoke else 30_000  # vouchers to redeem, from the seeded data
        try:
            from fairshare.allocation.services import allocation_run
        except ImportError:
            self.result["steps"]["allocation"] = {"not_available": NA, "target": target}
            log(f"allocation: {NA}")
            return
        from django.utils import timezone

        from fairshare.community.models import Household
        from fairshare.rounds.models import Round

        if Household.objects.count() < target * 1.2 and not self.smoke and not self.args.only:
            log("allocation needs >=120,000 households: reloading with --households 120000")
            assert self.service is not None
            self.service.stop()
            dbwork.close_connections()
            fairshare("flush", "--noinput", env=self.env)
            self.seed(120_000)
            self.service.start()
        round_ = Round.objects.get(id=dbwork.open_round_id())
        created = dbwork.top_up_waiting(round_id=round_.id, target=target)
        waiting = dbwork.waiting_count(round_.id)
        day = timezone.localdate()
        dbwork.supply_create(round_id=round_.id, day=day)
        raw = dbwork.raw_insert_select(round_id=round_.id, day=day)
        floor = dbwork.schema_floor(round_id=round_.id, day=day)
        log(
            f"allocation: {waiting:,} waiting ({created:,} bulk-created); raw INSERT..SELECT "
            f"{raw['rows']:,} rows in {raw['seconds']} s; running allocation_run"
        )
        prof = self.profiler("allocation", pid=os.getpid())
        t0 = time.perf_counter()
        allocation_run(round=round_, date=day, pharmacy=None, actor=None, dry_run=False)
        seconds = time.perf_counter() - t0
        from fairshare.allocation.models import Voucher

        issued = Voucher.objects.filter(round=round_, date=day).count()
        self.result["steps"]["allocation"] = {
            "waiting": waiting,
            "bulk_created": created,
            "vouchers_issued": issued,
            "seconds": round(seconds, 3),
            "vouchers_per_s": round(issued / seconds, 1),
            "raw_insert_select": raw,
            "schema_floor": floor,
            "profile": self.finish(prof),
        }
        self.result["invariants"]["after_allocation"] = dbwork.invariants()

    # (result key, load-generator arguments, what it models); the target (issue 8: p99 under
    # 50 ms at 50 concurrent scanners) is evaluated on the first, real scanners' pace.
    REDEMPTION_RUNS = (
        ("redemption_paced_1s", ("--model", "paced", "--clients", "50", "--interval", "1")),
        ("redemption_paced_0.25s", ("--model", "paced", "--clients", "50", "--interval", "0.25")),
        ("redemption", ("--model", "closed", "--clients", "50")),
    )

    def redemption(self, paths: dict[str, set[str]]) -> None:
        """Three measurements on distinct vouchers of P01-P05 with each pharmacy's bearer token:
        50 scanners x 1 scan/s (open model per scanner, latency from the scheduled send time,
        each sale with its own Idempotency-Key as scan.js sends), the same at 4 scans/s
        (headroom), and saturation: 50 closed-loop clients with no think time (no key)."""
        svc = self.service
        assert svc is not None
        if not has_endpoint(paths, "post", "/api/v1/vouchers/{code}/redeem"):
            self.result["steps"]["redemption"] = {"not_available": NA}
            log(f"redemption: {NA}")
            return
        from django.utils import timezone

        from fairshare.allocation.models import Voucher

        seconds = 20.0
        wanted = {  # distinct vouchers per run (the closed loop stops when they run out)
            "redemption_paced_1s": 50 if self.smoke else int(50 * seconds),
            "redemption_paced_0.25s": 50 if self.smoke else int(200 * seconds),
            "redemption": 40 if self.smoke else 16000,
        }
        tokens: dict[str, str] = {}
        codes = list(
            Voucher.objects.filter(
                status="issued",
                date=timezone.localdate(),
                pharmacy__code__in=[f"P{i:02d}" for i in range(1, 6)],
            )
            .values_list("code", "pharmacy__code")
            .order_by("?")[: sum(wanted.values())]
        )
        if not codes:
            self.result["steps"]["redemption"] = {"not_available": "no issued vouchers to redeem"}
            self.result["notes"].append("redemption skipped: no issued vouchers at P01-P05")
            return
        for _code, pharmacy in codes:
            if pharmacy not in tokens:
                st, body = http(
                    "POST",
                    svc.url("/api/v1/auth/token"),
                    {"username": f"pharmacy{pharmacy[1:]}", "password": "demo"},
                )
                if st != 200:
                    raise RuntimeError(f"token for pharmacy{pharmacy[1:]}: {st} {body}")
                tokens[pharmacy] = body["token"]
        all_outcomes: list[list[Any]] = []
        all_steps: list[dict[str, Any]] = []
        pos = 0
        for name, model_args in self.REDEMPTION_RUNS:
            share = codes[pos : pos + wanted[name]]
            pos += len(share)
            if not share:
                self.result["steps"][name] = {"not_available": "no issued vouchers left"}
                continue
            paced = "paced" in model_args
            jobs = []
            for i, (code, pharmacy) in enumerate(share):
                headers = {"Authorization": f"Bearer {tokens[pharmacy]}"}
                if paced:
                    headers["Idempotency-Key"] = f"bench-{name}-{i}"
                jobs.append(
                    {
                        "method": "POST",
                        "path": f"/api/v1/vouchers/{code}/redeem",
                        "body": "{}",
                        "headers": headers,
                        "tag": code,
                    }
                )
            # Every 20th code is sent a second time a few requests later: a second scanner
            # at another till (its own key). Exactly one of the two may answer 200 (other 409).
            mixed: list[dict[str, Any]] = []
            for i, job in enumerate(jobs):
                mixed.append(job)
                if i % 20 == 0 and i >= 3:
                    again = dict(jobs[i - 3], headers=dict(jobs[i - 3]["headers"]))
                    if paced:
                        again["headers"]["Idempotency-Key"] += "-till2"
                    mixed.append(again)
            jobs_file = write_jobs(mixed, self.work / f"{name}-jobs.jsonl")
            duration = seconds
            if self.smoke:
                duration = 60.0 if not paced else (1.0 if model_args[-1] == "1" else 0.25)
            prof = self.profiler(name)
            cpu0 = svc.cpu_seconds()
            res = run_loadgen(
                svc.port,
                *model_args,
                "--duration",
                str(duration),
                "--drain",
                "10",
                "--jobs",
                str(jobs_file),
                "--expect",
                "200,409",
            )
            step = res["steps"][0]
            self.result["steps"][name] = step | {
                "duplicates_sent": len(mixed) - len(jobs),
                **cpu_cost(svc.cpu_seconds() - cpu0, step.get("ok", 0)),
                "profile": self.finish(prof),
            }
            all_outcomes += res["outcomes"]
            all_steps.append(step)
            log(
                f"{name}: {step['ok_per_s']}/s, p50 {step['p50_ms']} ms, p99 {step['p99_ms']} ms, "
                f"errors {step['errors'] or 0}"
            )
        self.result["invariants"]["after_redemption"] = dbwork.invariants(
            redeem_outcomes=all_outcomes
        )
        self.result["invariants"]["after_redemption"]["no_internal_errors"] = internal_errors(
            {"steps": all_steps}
        )

    # --- profiling ----------------------------------------------------------------------
    def profiler(self, name: str, pid: int | None = None) -> Profiler | None:
        if not self.args.profile:
            return None
        if pid is None:
            assert self.service is not None
            workers = self.service.worker_pids()
            if not workers:
                return None
            pid = workers[0]
        return Profiler(pid, self.work, name)

    def finish(self, prof: Profiler | None) -> dict[str, Any] | None:
        return prof.finish() if prof is not None else None

    # --- driver -------------------------------------------------------------------------
    def run(self) -> int:
        self.result["machine"] = machine_info()
        self.result["started"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.result["command"] = " ".join(["bench/run.py", *sys.argv[1:]]) + (
            f"  (DATABASE_URL={self.database_url})" if self.database_url else ""
        )
        self.result["workers"] = self.args.workers
        self.result["worker_class"] = self.worker_class()
        self.result["threads"] = self.args.threads or "(serve default)"
        broken = False
        try:
            self.setup()
            self.result["invariants"]["after_seed"] = dbwork.invariants()
            paths = openapi_paths(self.service)  # type: ignore[arg-type]
            skip = set(filter(None, (self.args.skip or "").split(",")))
            if self.args.only == "redemption":
                skip |= {"rush", "ceilings"}
            if "baselines" not in skip:
                self.baselines()
            if "rush" not in skip:
                self.rush(paths)
            if "ceilings" not in skip:
                self.ceilings()
            if "allocation" not in skip:
                self.allocation()
                paths = openapi_paths(self.service)  # type: ignore[arg-type]
                if "redemption" not in skip:
                    self.redemption(paths)
        except Exception:
            broken = True
            self.result["error"] = traceback.format_exc()[-4000:]
            log("harness error:\n" + self.result["error"])
        finally:
            if self.service is not None:
                self.service.stop()
        self.result["machine"]["load_after"] = os.getloadavg()
        failed = [
            f"{stage}: {name}"
            for stage, checks in self.result["invariants"].items()
            for name, c in checks.items()
            if not c["ok"]
        ]
        self.result["invariant_failures"] = failed
        try:
            self.result["table"] = print_table(self.result)
        except Exception:
            broken = True
            self.result["table_error"] = traceback.format_exc()[-2000:]
            log("could not print the table:\n" + self.result["table_error"])
        self.write()
        if failed:
            log("INVARIANT FAILED: " + "; ".join(failed))
            return 1
        return 2 if broken else 0

    def write(self) -> None:
        out_dir = Path(self.args.results_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        name = (
            time.strftime("%Y%m%dT%H%M%S")
            + f"-{self.result.get('database', 'db')}-"
            + self.result["mode"]
            + ".json"
        )
        path = out_dir / name
        path.write_text(json.dumps(self.result, indent=1, ensure_ascii=False, default=str))
        log(f"results written to {path}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fairshare benchmark (see BENCHMARKS.md)")
    ap.add_argument("--large", action="store_true", help="the 500,000-household district")
    ap.add_argument("--smoke", action="store_true", help="seconds-long harness + invariant check")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    ap.add_argument("--worker-class", help="gunicorn worker class (default: serve's default)")
    ap.add_argument("--threads", type=int, help="threads per gthread worker")
    ap.add_argument("--port", type=int, default=8110, help="service port; +1 for the static server")
    ap.add_argument(
        "--only",
        choices=["redemption"],
        help="redemption: /ping and raw-insert baselines, a 30,000-voucher allocation of the "
        "seeded households (the allocation figure is then not comparable), the redemption runs",
    )
    ap.add_argument(
        "--skip",
        help="comma-separated steps to leave out (baselines, rush, ceilings, allocation, "
        "redemption; redemption needs allocation) — for experiments; a full run skips nothing",
    )
    ap.add_argument("--steps", help=f"registration rate:seconds steps (default {FULL_STEPS})")
    ap.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="py-spy the steps (default: on, off in --smoke)",
    )
    ap.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the service's cache and rate limits, used when reachable "
        "(default $BENCH_REDIS_URL or redis://127.0.0.1:6379/0)",
    )
    ap.add_argument(
        "--no-redis", action="store_true", help="database cache for rate limits (no REDIS_URL)"
    )
    ap.add_argument("--data-dir", default=str(ROOT / "var" / "bench"))
    ap.add_argument("--results-dir", default=str(BENCH_DIR / "results"))
    args = ap.parse_args(argv)
    if args.profile is None:
        args.profile = not args.smoke
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
