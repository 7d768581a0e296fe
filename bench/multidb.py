"""``bench/run.py --dbs sqlite,postgres``: one run per database in the same invocation.

Each database gets a ``bench/run.py`` process of its own (the harness sets Django up once
per process, for one database), one after the other, with the other arguments unchanged,
its own data folder (``<data dir>/<db>``) and its own result file. Then the wrk figures
of both runs are printed side by side, as in issue 17's table, and written to
``<results>/<time>-sqlite+postgresql-<mode>.json`` next to the two runs' files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from harness import log
from report import print_side_by_side

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/fairshare_bench"
VENDORS = {"sqlite": "sqlite", "postgres": "postgresql", "postgresql": "postgresql"}


def _strip(argv: list[str], *options: str) -> list[str]:
    """``argv`` without ``--opt value`` / ``--opt=value`` for each of ``options``."""
    out: list[str] = []
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
            continue
        if arg in options:
            skip_next = True
            continue
        if any(arg.startswith(o + "=") for o in options):
            continue
        out.append(arg)
    return out


def run_each(args: argparse.Namespace, argv: list[str]) -> int:
    dbs = [d.strip().lower() for d in args.dbs.split(",") if d.strip()]
    unknown = [d for d in dbs if d not in VENDORS]
    if unknown or not dbs:
        raise SystemExit(f"--dbs: expected sqlite and/or postgres, got {args.dbs!r}")
    rest = _strip(argv, "--dbs", "--pg-url", "--data-dir", "--result-file")
    mode = "smoke" if args.smoke else ("large" if args.large else "standard")
    # named in the service's time zone, as the harness names its files (Django sets TZ)
    zone = ZoneInfo(os.environ.get("FAIRSHARE_TIME_ZONE", "").strip() or "Asia/Shanghai")
    stamp = datetime.now(zone).strftime("%Y%m%dT%H%M%S")
    results_dir = Path(args.results_dir).resolve()
    results_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    codes: list[int] = []
    for db in dbs:
        vendor = VENDORS[db]
        files[vendor] = results_dir / f"{stamp}-{vendor}-{mode}.json"
        env = {**os.environ, "DATABASE_URL": args.pg_url if vendor == "postgresql" else ""}
        cmd = [
            sys.executable,
            str(Path(__file__).resolve().parent / "run.py"),
            *rest,
            "--data-dir",
            str(Path(args.data_dir).resolve() / vendor),
            "--result-file",
            str(files[vendor]),
        ]
        log(f"--dbs: the {vendor} run")
        codes.append(subprocess.run(cmd, env=env).returncode)
    results = {v: json.loads(p.read_text()) for v, p in files.items() if p.exists()}
    combined: dict[str, Any] = {
        "command": " ".join(["bench/run.py", *argv])
        + (f"  (PostgreSQL {args.pg_url})" if "postgresql" in files else ""),
        "runs": {v: p.name for v, p in files.items()},
        "exit_codes": dict(zip(files, codes, strict=True)),
    }
    try:
        combined["table"] = print_side_by_side(results)
    except Exception as exc:  # a broken run must not hide the other's figures
        combined["table_error"] = repr(exc)
        log(f"could not print the side-by-side table: {exc!r}")
    out = results_dir / f"{stamp}-{'+'.join(files)}-{mode}.json"
    out.write_text(json.dumps(combined, indent=1, ensure_ascii=False))
    log(f"side-by-side written to {out}")
    if any(c == 2 for c in codes) or len(results) < len(files):
        return 2
    return max(codes, default=0)
