"""The printed table of a benchmark run (each figure next to its baseline) and machine facts."""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Any


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as fh:
            mem_kb = int(fh.readline().split()[1])
    except OSError:
        mem_kb = 0
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "git_commit": git.stdout.strip(),
        "load_before": os.getloadavg(),
    }


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "—"
    return f"{a / b:.2f}×"


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        v = f"{v:,.1f}" if v >= 100 else f"{v:,.2f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v}{unit}"


def sustained(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The highest step that was not saturated."""
    good = [s for s in steps if "ok_per_s" in s and not s.get("saturated")]
    return max(good, key=lambda s: s["offered_per_s"]) if good else None


def _baseline_rows(st: dict[str, Any]) -> list[list[str]]:
    """The load generator, /ping and raw-insert ceilings every other figure is set against
    (none when the baselines step was skipped)."""
    if not {"loadgen_ceiling", "ping_closed", "raw_insert"} & st.keys():
        return []
    rows: list[list[str]] = []
    lg = st.get("loadgen_ceiling", {}).get("ok_per_s")
    ping = st.get("ping_closed", {})
    ping_rate = ping.get("ok_per_s")
    raw = st.get("raw_insert", {}).get("rows_per_s")
    rows.append(["load generator ceiling (static server, 50 clients)", _fmt(lg, " req/s"), "", ""])
    rows.append(
        [
            "/ping framework ceiling (50 clients)",
            _fmt(ping_rate, " req/s"),
            "load generator",
            ratio(ping_rate, lg),
        ]
    )
    ping_open = sustained(st.get("ping_open", {}).get("steps", []))
    if ping_open:
        rows.append(
            [
                "/ping open model: highest unsaturated step",
                f"{ping_open['ok_per_s']:,.0f} req/s, p99 {ping_open['p99_ms']} ms",
                "/ping ceiling",
                ratio(ping_open["ok_per_s"], ping_rate),
            ]
        )
    if ping.get("worker_cpu_ms_per_ok"):
        rows.append(["  worker CPU per /ping", f"{ping['worker_cpu_ms_per_ok']} ms", "", ""])
    rows.append(["raw INSERT+COMMIT loop (1 connection)", _fmt(raw, " rows/s"), "", ""])
    raw_step = st.get("raw_insert", {})
    if raw_step.get("p99_ms") is not None:
        rows.append(
            [
                "  one INSERT+COMMIT: p50 / p99 / max",
                f"{raw_step['p50_ms']} / {raw_step['p99_ms']} / {raw_step['max_ms']} ms",
                "",
                "",
            ]
        )
    return rows


def _rush_best_rows(best: dict[str, Any], ping_rate: Any, raw: Any) -> list[list[str]]:
    rows: list[list[str]] = []
    rows.append(
        [
            "registrations accepted/s (highest unsaturated step)",
            _fmt(best["ok_per_s"], "/s"),
            "/ping ceiling",
            ratio(best["ok_per_s"], ping_rate),
        ]
    )
    rows.append(
        [
            "  same, against the storage ceiling",
            "",
            "raw INSERT+COMMIT",
            ratio(best["ok_per_s"], raw),
        ]
    )
    rows.append(
        [
            "  p50 / p99 / p99.9 at that step",
            f"{best['p50_ms']} / {best['p99_ms']} / {best['p999_ms']} ms",
            "",
            "",
        ]
    )
    return rows


def _rush_rows(st: dict[str, Any]) -> list[list[str]]:
    """The registration rush: highest unsaturated step, peak, the 80 % step, CPU."""
    rows: list[list[str]] = []
    ping = st.get("ping_closed", {})
    ping_rate = ping.get("ok_per_s")
    raw = st.get("raw_insert", {}).get("rows_per_s")
    rush = st.get("registration_rush", {})
    if rush:
        best = sustained(rush["steps"])
        peak = max((s.get("ok_per_s", 0) for s in rush["steps"]), default=0)
        if best:
            rows += _rush_best_rows(best, ping_rate, raw)
        rows.append(
            [
                "registrations accepted/s (peak of any step)",
                _fmt(peak, "/s"),
                "/ping ceiling",
                ratio(peak, ping_rate),
            ]
        )
        at = rush.get("at_share")
        if at:
            rows.append(
                [
                    f"  at {at['share_of_peak']:.0%} of saturation ({at['offered_per_s']:.0f}/s "
                    "offered): p50 / p99 / p99.9",
                    f"{at['p50_ms']} / {at['p99_ms']} / {at['p999_ms']} ms, "
                    f"{at['ok_per_s']:.0f}/s ok, errors {at['errors'] or 0}",
                    "",
                    "",
                ]
            )
        if rush.get("worker_cpu_ms_per_ok"):
            rows.append(
                [
                    "  worker CPU per registration",
                    f"{rush['worker_cpu_ms_per_ok']} ms",
                    "per /ping",
                    ratio(rush["worker_cpu_ms_per_ok"], ping.get("worker_cpu_ms_per_ok")),
                ]
            )
    return rows


def _ceiling_rows(st: dict[str, Any]) -> list[list[str]]:
    """Closed-loop ceilings of the full registration endpoint and of the raw-SQL floor."""
    rows: list[list[str]] = []
    ping_rate = st.get("ping_closed", {}).get("ok_per_s")
    ceil = st.get("registration_ceilings", {})
    full, floor = ceil.get("full_stack", {}), ceil.get("raw_sql_floor", {})
    if full and floor:
        rows.append(
            [
                "registration ceiling, full stack (50 clients)",
                f"{_fmt(full.get('ok_per_s'), '/s')}, {full.get('worker_cpu_ms_per_ok')} ms CPU",
                "/ping ceiling",
                ratio(full.get("ok_per_s"), ping_rate),
            ]
        )
        rows.append(
            [
                "registration floor, raw-SQL view (50 clients)",
                f"{_fmt(floor.get('ok_per_s'), '/s')}, {floor.get('worker_cpu_ms_per_ok')} ms CPU",
                "/ping ceiling",
                ratio(floor.get("ok_per_s"), ping_rate),
            ]
        )
        rows.append(
            [
                "  full stack against the raw-SQL floor",
                "",
                "raw-SQL floor",
                ratio(full.get("ok_per_s"), floor.get("ok_per_s")),
            ]
        )
    return rows


WRK_KEYS = ("bare_trivial", "ping", "bare_raw_sql", "floor", "full")


def _gen_cpu(step: dict[str, Any]) -> str:
    """The load generator's own CPU over a step: cores used and share of the machine."""
    if step.get("generator_cores") is None:
        return "—"
    return f"{step['generator_cores']:.2f} cores ({step['generator_share']:.0%})"


def _wrk_rate(step: dict[str, Any]) -> str:
    text = f"{step['ok_per_s']:,.0f}/s"
    if step.get("non_2xx") or any(k.startswith("socket_") for k in step.get("errors", {})):
        text += f" (non-2xx {step.get('non_2xx', 0)}, errors {step.get('errors')})"
    if step.get("jobs_exhausted"):
        text += " (household list ran out: a lower bound)"
    return text


def _wrk_rows(st: dict[str, Any]) -> list[list[str]]:
    """Issue 17: wrk's closed-loop throughput, each figure against the bare Django app."""
    wrk = st.get("wrk", {})
    if "not_available" in wrk:
        return [["wrk steps", wrk["not_available"], "", ""]]
    rows: list[list[str]] = []
    for key in WRK_KEYS:
        step = wrk.get(key)
        if not step:
            continue
        base = wrk.get(step.get("baseline") or "", {})
        rows.append(
            [
                f"{step['label']} (wrk, {wrk['connections']} connections)",
                f"{_wrk_rate(step)}, {step.get('worker_cpu_ms_per_ok')} ms server CPU, "
                f"wrk {_gen_cpu(step)}",
                base.get("label", ""),
                ratio(step["ok_per_s"], base.get("ok_per_s")) if base else "",
            ]
        )
    return rows


def print_side_by_side(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Issue 17's table from one ``--dbs`` invocation: each database's wrk figures, with
    the ratio to the bare app's corresponding view and wrk's own CPU; returns the rows."""
    vendors = list(results)
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    header = ["endpoint"]
    for v in vendors:
        header += [names.get(v, v), "× bare", "server CPU/answer", "wrk CPU"]
    rows: list[list[str]] = []
    for key in WRK_KEYS:
        label = next(
            (r["steps"]["wrk"][key]["label"] for r in results.values()
             if key in r["steps"].get("wrk", {})),
            None,
        )  # fmt: skip
        if label is None:
            continue
        row = [label]
        for v in vendors:
            wrk = results[v]["steps"].get("wrk", {})
            step = wrk.get(key)
            if not step:
                row += ["—", "", "", ""]
                continue
            base = wrk.get(step.get("baseline") or "", {})
            row += [
                _wrk_rate(step),
                ratio(step["ok_per_s"], base.get("ok_per_s")) if base else "",
                _fmt(step.get("worker_cpu_ms_per_ok"), " ms"),
                _gen_cpu(step),
            ]
        rows.append(row)
    width = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("{:<" + str(w) + "}" for w in width)
    print()
    for v in vendors:
        m = results[v].get("machine", {})
        w = results[v].get("steps", {}).get("wrk", {})
        print(
            f"{names.get(v, v)}: {results[v].get('workers')} workers "
            f"({results[v].get('worker_class')}), wrk {w.get('connections')} connections "
            f"{w.get('threads')} threads {w.get('seconds')} s a step, {m.get('nproc')} cores, "
            f"load {m.get('load_before', [0])[0]:.2f} before / {m.get('load_after', [0])[0]:.2f} "
            f"after, invariant failures: {results[v].get('invariant_failures') or 'none'}"
        )
    print(line.format(*header))
    for r in rows:
        print(line.format(*r))
    print()
    return [header, *rows]


def _allocation_rows(st: dict[str, Any]) -> list[list[str]]:
    """The allocation run against INSERT…SELECT and the schema floor."""
    rows: list[list[str]] = []
    alloc = st.get("allocation", {})
    if alloc:
        rawsel = alloc["raw_insert_select"]
        rows.append(
            [
                f"allocation_run, {alloc['vouchers_issued']:,} vouchers",
                _fmt(alloc["seconds"], " s"),
                f"INSERT…SELECT {rawsel['rows']:,} rows {rawsel['seconds']} s",
                ratio(alloc["seconds"], rawsel["seconds"]),
            ]
        )
        floor = alloc.get("schema_floor")
        if floor:
            rows.append(
                [
                    "  same rows into the real voucher + outbox tables (schema floor)",
                    _fmt(floor["seconds"], " s"),
                    "raw INSERT…SELECT",
                    ratio(floor["seconds"], rawsel["seconds"]),
                ]
            )
            rows.append(
                ["  allocation_run against the schema floor", "", "schema floor",
                 ratio(alloc["seconds"], floor["seconds"])]
            )  # fmt: skip
    return rows


def _redemption_rows(st: dict[str, Any]) -> list[list[str]]:
    """/ping at the scanners' pace, then the three redemption runs against /ping's p99."""
    rows: list[list[str]] = []
    ping = st.get("ping_closed", {})
    runs = (
        ("redemption_paced_1s", "redemption, 50 scanners × 1 scan/s (target p99 < 50 ms)"),
        ("redemption_paced_0.25s", "redemption, 50 scanners × 4 scans/s (headroom)"),
        ("redemption", "redemption saturation (50 clients, no think time)"),
    )
    ping_paced = st.get("ping_paced_1s", {})
    if ping_paced:
        rows.append(
            [
                "/ping, 50 clients × 1 request/s: p50 / p99",
                f"{ping_paced['p50_ms']} / {ping_paced['p99_ms']} ms",
                "",
                "",
            ]
        )
        if ping_paced.get("worker_cpu_ms_per_ok"):
            rows.append(
                [
                    "  worker CPU per /ping at that pace (idle overhead included)",
                    f"{ping_paced['worker_cpu_ms_per_ok']} ms",
                    "",
                    "",
                ]
            )
    for key, label in runs:
        red = st.get(key, {})
        paced = key == "redemption_paced_1s" and ping_paced.get("p99_ms")
        base_p99 = ping_paced["p99_ms"] if paced else ping.get("p99_ms")
        base_label = "/ping same pace p99" if paced else "/ping p99 (50 clients)"
        if "not_available" in red:
            rows.append([label, red["not_available"], "", ""])
        elif red:
            rows.append(
                [
                    f"{label}: p50 / p99",
                    f"{red['p50_ms']} / {red['p99_ms']} ms ({red['ok_per_s']:,.0f}/s"
                    + (f", errors {red['errors']})" if red.get("errors") else ")"),
                    f"{base_label} {base_p99} ms",
                    ratio(red["p99_ms"], base_p99),
                ]
            )
            if red.get("worker_cpu_ms_per_ok"):
                rows.append(
                    [
                        "  worker CPU per redemption",
                        f"{red['worker_cpu_ms_per_ok']} ms",
                        "per /ping",
                        ratio(red["worker_cpu_ms_per_ok"], ping.get("worker_cpu_ms_per_ok")),
                    ]
                )
    return rows


def _import_rows(st: dict[str, Any]) -> list[list[str]]:
    """The roster import (issue 19): N households as CSV, the whole command's wall time."""
    im = st.get("roster_import")
    if not im:
        return []
    label = f"roster import, {im.get('households', 0):,} households (SQLite, CSV)"
    if not im.get("ok"):
        return [[label, "FAILED", "-", "-"]]
    target = im.get("target_seconds", 60)
    value = f"{im['seconds']} s ({im.get('member_rows', 0):,} member rows)"
    return [[label, value, f"target {target} s", ratio(im["seconds"], target)]]


def _print_rows(result: dict[str, Any], rows: list[list[str]]) -> None:
    width = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ["figure", "value", "baseline", "ratio"]
    width = [max(w, len(h)) for w, h in zip(width, header, strict=True)]
    line = "  ".join("{:<" + str(w) + "}" for w in width)
    print()
    print(
        f"Fairshare benchmark — {result.get('database')} — {result['mode']} — "
        f"{result['machine']['nproc']} cores {result['machine']['cpu_model']}, load "
        f"{result['machine']['load_before'][0]:.2f} before / "
        f"{result['machine'].get('load_after', [0])[0]:.2f} after — "
        f"{result.get('workers')} workers ({result.get('worker_class', 'sync')}), "
        f"cache: {result.get('cache', '?')}"
    )
    print(line.format(*header))
    for r in rows:
        print(line.format(*r))


def _print_steps(st: dict[str, Any]) -> None:
    for name in ("ping_open", "registration_rush"):
        steps = st.get(name, {}).get("steps")
        if steps:
            print(f"\n{name} steps (open model, latency from the scheduled send time):")
            print("  offered/s  ok/s     p50 ms   p99 ms   p99.9 ms  loadgen CPU      errors")
            for s in steps:
                if "skipped" in s:
                    print(f"  {s['offered_per_s']:>8.0f}  skipped: {s['skipped']}")
                    continue
                print(
                    f"  {s['offered_per_s']:>8.0f}  {s['ok_per_s']:>7.1f}  {s['p50_ms']:>7}  "
                    f"{s['p99_ms']:>7}  {s['p999_ms']:>8}  {_gen_cpu(s):<15}  "
                    f"{s['errors'] or '-'}"
                    f"{'  SATURATED' if s.get('saturated') else ''}"
                )


def _print_invariants(result: dict[str, Any]) -> None:
    print("\ninvariants:")
    for stage, checks in result["invariants"].items():
        for name, c in checks.items():
            print(f"  [{'ok' if c['ok'] else 'FAIL'}] {stage}: {name} — {c['detail']}")
    print()


def print_table(result: dict[str, Any]) -> list[list[str]]:
    """Print the run's figures, each next to its baseline, its open-model steps and its
    invariant checks; return the table's rows (kept in the result file)."""
    st = result["steps"]
    rows = [
        *_baseline_rows(st),
        *_rush_rows(st),
        *_ceiling_rows(st),
        *_wrk_rows(st),
        *_allocation_rows(st),
        *_redemption_rows(st),
        *_import_rows(st),
    ]
    _print_rows(result, rows)
    _print_steps(st)
    _print_invariants(result)
    return rows
