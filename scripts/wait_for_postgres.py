"""Wait up to 30 s for the PostgreSQL server named by a URL; exit 1 with a clear line if absent."""

import sys
import time

import psycopg


def main(url: str) -> int:
    # Connect to the maintenance database; the test database is created by the test runner.
    base = url.rsplit("/", 1)[0] + "/postgres"
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(base, connect_timeout=3):
                return 0
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                print(f"PostgreSQL is not reachable at {base}: {exc}".strip(), file=sys.stderr)
                print(
                    "Start it (see README) or set FAIRSHARE_SKIP_POSTGRES=1 to skip on purpose.",
                    file=sys.stderr,
                )
                return 1
            time.sleep(1)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
