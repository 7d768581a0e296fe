"""Roster import timing (issue 19): a generated district of N households as CSV files,
imported by ``fairshare import_roster`` into a fresh SQLite database.

    .venv/bin/python bench/import_timing.py [--households 500000] [--data-dir var/bench-import]

The files are written into the data folder (``roster/households.csv``, ``pharmacies.csv``):
12 subdistricts of 25 committees, 5 pharmacies per subdistrict (each serving 5
committees), 1 to 4 members per household (about 2.4), two thirds with a resident ID
number (valid check digits), half with a mobile number, every household with a
``户号/household_id``. The timed figure is the whole command (start-up, reading, checking,
writing, commit), as an operator would see it; the command's own stage lines are kept.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
FAIRSHARE = str(Path(sys.executable).parent / "fairshare")
SUBDISTRICTS, COMMITTEES_PER, PHARMACIES_PER = 12, 25, 5
HEADERS = [
    "街道",
    "居委会",
    "楼栋",
    "室号",
    "姓名",
    "证件号",
    "手机",
    "独居",
    "行动不便",
    "地址",
    "户号",
]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _check_digit(body: str) -> str:
    """GB 11643 mod 11-2 (the generator's own copy: the bench checks the product's)."""
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=False))
    return "10X98765432"[total % 11]


def _resident_id(n: int) -> str:
    body = (
        f"310110{1940 + n % 60}{1 + (n // 60) % 12:02d}{1 + (n // 720) % 28:02d}"
        f"{(n // 20160) % 1000:03d}"
    )
    return body + _check_digit(body)


def generate(folder: Path, households: int, seed: int = 7) -> dict[str, int]:
    """Write the district's households and pharmacies CSV files; returns the counts."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    committees = SUBDISTRICTS * COMMITTEES_PER
    members = 0
    with open(folder / "households.csv", "w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh)
        out.writerow(HEADERS)
        for h in range(households):
            c = h % committees
            local = h // committees
            b = local // 24
            building = f"{b + 1}号" if b < 40 else f"{b // 40}弄{b % 40 + 1}号"
            room = f"{local % 6 + 1}0{(local // 6) % 4 + 1}"
            for _m in range(rng.choice((1, 2, 2, 3, 3, 4))):
                members += 1
                out.writerow(
                    [
                        f"街道{c // COMMITTEES_PER:02d}",
                        f"C{c:03d}",
                        building,
                        room,
                        f"居民{members}",
                        _resident_id(members) if members % 3 else "",
                        f"139{members:08d}" if members % 2 else "",
                        "否",
                        "是" if members % 17 == 0 else "否",
                        f"长阳路{c}弄",
                        f"H{h:07d}",
                    ]
                )
    with open(folder / "pharmacies.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["药店编码", "名称", "地址", "营业时间", "每时段人数", "服务居委会"])
        for p in range(SUBDISTRICTS * PHARMACIES_PER):
            served = "、".join(f"C{c:03d}" for c in range(p * 5, p * 5 + 5))
            out.writerow([f"P{p:03d}", f"药房{p}", f"长阳路{p}号", "08:30-20:00", "15", served])
    return {"households": households, "member_rows": members, "committees": committees}


def _stages(stderr: str) -> dict[str, float]:
    """The command's stage lines ``[  12.3s] checking`` → stage → seconds since start."""
    return {
        m.group(2): float(m.group(1))
        for m in re.finditer(r"^\[\s*([\d.]+)s\] (\w+)", stderr, re.MULTILINE)
    }


def run(*, households: int, data_dir: Path, keep: bool = False) -> dict[str, Any]:
    """Fresh data folder, migrate, generate, time the import; the step's result."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {
        **os.environ,
        "FAIRSHARE_DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "FAIRSHARE_DEBUG": "false",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([FAIRSHARE, "migrate", "-v0"], env=env, check=True)
    t0 = time.perf_counter()
    counts = generate(data_dir / "roster", households)
    generated = time.perf_counter() - t0
    files = [str(data_dir / "roster" / n) for n in ("households.csv", "pharmacies.csv")]
    t0 = time.perf_counter()
    proc = subprocess.run(
        [FAIRSHARE, "import_roster", *files, "--district", "杨浦区"],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    result: dict[str, Any] = {
        **counts,
        "database": "sqlite",
        "seconds": round(seconds, 1),
        "generate_seconds": round(generated, 1),
        "file_mb": round(sum(os.path.getsize(f) for f in files) / 1e6, 1),
        "stages": _stages(proc.stderr),
        "ok": proc.returncode == 0,
        "target_seconds": 60,
    }
    if proc.returncode != 0:
        result["error"] = (proc.stdout + proc.stderr)[-1500:]
    if not keep:
        shutil.rmtree(data_dir / "roster", ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=500_000)
    ap.add_argument("--data-dir", default=str(ROOT / "var" / "bench-import"))
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--generate-only", action="store_true")
    args = ap.parse_args(argv)
    if args.generate_only:
        print(generate(Path(args.data_dir) / "roster", args.households))
        return 0
    result = run(households=args.households, data_dir=Path(args.data_dir), keep=args.keep)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
