"""Summarise a py-spy profile of the registration path (a plain script, not a test).

Reads py-spy's raw (collapsed) output, keeps the samples of the timed registrations
(stacks through ``profile_path.py``'s ``main.<locals>.one``), and prints two tables:
the share of samples by kind of work (each sample goes to the first rule matching from
its innermost frame outwards, so every sample is counted once and the shares add up to
100 %), and the functions with the most samples of their own. py-spy samples wall-clock
time of the running thread; ``--cpu`` leaves out the samples whose innermost frame waits
for an answer or a disk flush (``WAITS``), which approximates the CPU-time split.

    FAIRSHARE_DATA_DIR=/tmp/fs-prof DATABASE_URL= py-spy record --format raw -r 250 \\
        -o /tmp/sqlite.txt -- .venv/bin/python bench/profile_path.py -n 3000
    .venv/bin/python bench/profile_summary.py /tmp/sqlite.txt   (or a .txt.gz)
"""

from __future__ import annotations

import argparse
import gzip
import re
from collections import Counter

MARK = "main.<locals>.one"
# (label, pattern on one frame "function (file:line)"), innermost match wins.
RULES = [
    ("SQL in the database driver (execute)", r"CursorWrapper\._?execute|_execute_with_wrappers"),
    ("commit, savepoints and transactions", r"Atomic\.__(enter|exit)__|_?commit\b|savepoint"),
    ("rate limits (Redis round trip)", r"\(redis/|fairshare/core/ratelimit"),
    ("idempotency layer", r"fairshare/core/idempotency"),
    ("Django ORM: SQL compile, model instances", r"\(django/db/"),
    ("django-ninja and pydantic: parse, validate, render", r"\((ninja|pydantic|pydantic_core)/"),
    ("ledger chain (hashing, link)", r"fairshare/registration/ledger|fairshare/core/chain"),
    ("SMS outbox row", r"fairshare/core/(sms|outbox)"),
    ("registration service and validation (own Python)", r"fairshare/registration/"),
    ("other Fairshare code", r"\(fairshare/"),
    ("JSON encode/decode", r"\(json/|orjson"),
    ("Django request, middleware, URL resolving", r"\(django/(core|middleware|utils|urls|http)/"),
]


# Innermost frames that wait rather than compute: the PostgreSQL answer, Redis's, SQLite's
# COMMIT (its fsync under synchronous=FULL). ``--cpu`` leaves these samples out.
WAITS = r"^(Connection\.wait|SocketBuffer\._read_from_socket|BaseDatabaseWrapper\._commit) "


def load(path: str) -> list[tuple[list[str], int]]:
    stacks = []
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if MARK in stack:
                stacks.append((stack.split(";"), int(count)))
    return stacks


def classify(frames: list[str]) -> str:
    for frame in reversed(frames):
        for label, pattern in RULES:
            if re.search(pattern, frame):
                return label
    return "other (interpreter, standard library)"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--cpu", action="store_true", help="leave out the waiting samples")
    args = parser.parse_args()
    stacks = load(args.profile)
    waiting = sum(n for frames, n in stacks if re.match(WAITS, frames[-1]))
    print(f"samples waiting (innermost frame a wait): {waiting} of {sum(n for _, n in stacks)}")
    if args.cpu:
        stacks = [(frames, n) for frames, n in stacks if not re.match(WAITS, frames[-1])]
    total = sum(n for _, n in stacks)
    if not total:
        raise SystemExit(f"no samples through {MARK} in {args.profile}")
    kinds: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, n in stacks:
        kinds[classify(frames)] += n
        own[frames[-1]] += n
    print(f"{total} samples of the timed registrations\n\n| kind of work | share |\n|---|---|")
    for label, n in kinds.most_common():
        print(f"| {label} | {100 * n / total:.1f} % |")
    print("\n| function (own samples) | share |\n|---|---|")
    for frame, n in own.most_common(args.top):
        print(f"| `{frame}` | {100 * n / total:.1f} % |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
