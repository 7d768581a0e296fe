"""``make bench``: one benchmark run of the midnight rush, side by side with its baselines.

    .venv/bin/python bench/run.py [--large] [--smoke] [--workers 4] [--port 8110]
    .venv/bin/python bench/run.py --dbs sqlite,postgres [--pg-url postgres://…/fs_bench]

PostgreSQL when DATABASE_URL is set (the database is dropped and re-created: its name
must contain "bench"), SQLite in a fresh data folder otherwise. ``--dbs sqlite,postgres``
runs both, one after the other, each in a process of its own (``multidb.py``), and prints
their wrk figures side by side. See BENCHMARKS.md.
Exit status: 0 when every invariant held, 1 when one failed, 2 when the harness broke.
The steps are in ``steps_registration.py``, ``steps_wrk.py`` and ``steps_vouchers.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dbwork
import import_timing
import multidb
from harness import (
    BENCH_DIR,
    ROOT,
    Profiler,
    Service,
    fairshare,
    log,
    redis_reachable,
)
from report import machine_info, print_table
from steps_registration import FULL_STEPS, baselines, ceilings, rush
from steps_vouchers import allocation, redemption
from steps_wrk import side_by_side

# --only NAME: the steps it keeps (the others are skipped)
ONLY = {"redemption": {"baselines", "allocation", "redemption"}, "wrk": {"wrk"}}
ALL_STEPS = {"baselines", "rush", "ceilings", "wrk", "allocation", "redemption", "import"}


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
            "FAIRSHARE_TRUSTED_PROXY_HOPS": "1",
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
        if self.args.cluster:  # `make bench CLUSTER=1`: 2 nodes behind HAProxy instead
            from cluster_target import ClusterService

            self.service = ClusterService(self)
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
    def roster_import(self) -> None:
        """Issue 19: 500,000 households (300 in --smoke) imported from CSV files into a
        fresh SQLite database of its own (bench/import_timing.py), after the service
        steps, with the service stopped, so it competes with nothing."""
        households = 300 if self.smoke else 500_000
        log(f"roster import: generating and importing {households:,} households")
        step = import_timing.run(households=households, data_dir=self.data_dir / "import")
        self.result["steps"]["roster_import"] = step
        log(f"roster import: {step['seconds']} s ({'ok' if step['ok'] else 'FAILED'})")
        if not step["ok"]:
            self.result["notes"].append("roster import failed: " + step.get("error", "")[-300:])

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
            skip = self.skipped()
            if "baselines" not in skip:
                baselines(self)
            if "rush" not in skip:
                rush(self)
            if "ceilings" not in skip:
                ceilings(self)
            if "wrk" not in skip:
                side_by_side(self)
            if "allocation" not in skip:
                allocation(self)
                if "redemption" not in skip:
                    redemption(self)
        except Exception:
            broken = True
            self.result["error"] = traceback.format_exc()[-4000:]
            log("harness error:\n" + self.result["error"])
        finally:
            if self.service is not None:
                self.service.stop()
        if not broken and "import" not in self.skipped():
            try:
                self.roster_import()
            except Exception:
                broken = True
                self.result["error"] = traceback.format_exc()[-4000:]
                log("harness error in the import step:\n" + self.result["error"])
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

    def skipped(self) -> set[str]:
        skip = set(filter(None, (self.args.skip or "").split(",")))
        if self.args.only:
            skip |= ALL_STEPS - ONLY[self.args.only]
        if self.args.cluster:  # only the registration steps (bench/cluster_target.py)
            skip |= {"baselines", "allocation", "import", "wrk"}
        return skip

    def write(self) -> None:
        out_dir = Path(self.args.results_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        name = (
            time.strftime("%Y%m%dT%H%M%S")
            + f"-{self.result.get('database', 'db')}-"
            + self.result["mode"]
            + ".json"
        )
        path = Path(self.args.result_file) if self.args.result_file else out_dir / name
        path.write_text(json.dumps(self.result, indent=1, ensure_ascii=False, default=str))
        log(f"results written to {path}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fairshare benchmark (see BENCHMARKS.md)")
    ap.add_argument("--large", action="store_true", help="the 500,000-household district")
    ap.add_argument("--smoke", action="store_true", help="seconds-long harness + invariant check")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    ap.add_argument("--worker-class", help="gunicorn worker class (default: serve's default)")
    ap.add_argument("--threads", type=int, help="threads per gthread worker")
    ap.add_argument(
        "--port",
        type=int,
        default=8110,
        help="service port; +1 for the static server, +2 for the bare Django app",
    )
    ap.add_argument(
        "--only",
        choices=sorted(ONLY),
        help="redemption: /ping and raw-insert baselines, a 30,000-voucher allocation of the "
        "seeded households (the allocation figure is then not comparable), the redemption runs; "
        "wrk: only the wrk steps beside the bare Django app (issue 17)",
    )
    ap.add_argument(
        "--skip",
        help="comma-separated steps to leave out (baselines, rush, ceilings, wrk, allocation, "
        "redemption, import; redemption needs allocation) — for experiments; a full run "
        "skips nothing",
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
    ap.add_argument(
        "--cluster",
        action="store_true",
        help="registration steps through `make cluster`'s balancer (2 nodes; PostgreSQL)",
    )
    ap.add_argument("--data-dir", default=str(ROOT / "var" / "bench"))
    ap.add_argument("--results-dir", default=str(BENCH_DIR / "results"))
    ap.add_argument("--result-file", help=argparse.SUPPRESS)  # set by multidb.py
    ap.add_argument(
        "--dbs",
        help="sqlite,postgres: one run on each, one after the other, and their wrk figures "
        "side by side (PostgreSQL at --pg-url)",
    )
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL") or multidb.DEFAULT_PG_URL,
        help=f"PostgreSQL for --dbs (name must contain 'bench'; default $BENCH_PG_URL or "
        f"{multidb.DEFAULT_PG_URL})",
    )
    args = ap.parse_args(argv)
    if args.cluster and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        ap.error("--cluster needs DATABASE_URL=postgres://…bench… (the nodes share PostgreSQL)")
    if args.dbs:
        return multidb.run_each(args, sys.argv[1:] if argv is None else argv)
    if args.profile is None:
        args.profile = not args.smoke
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
