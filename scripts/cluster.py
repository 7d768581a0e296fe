# ruff: noqa: S603, S607  (runs the project's own commands and Debian's tools by name)
"""`make cluster`: several Fairshare app nodes on this machine behind HAProxy, PgBouncer and Redis.

    python scripts/cluster.py start [--nodes 2] [--workers 2] [--port 8080] [--fresh]
    python scripts/cluster.py status
    python scripts/cluster.py stop

``start`` renders the templates of ``deploy/cluster/`` into a run folder (``var/cluster``
by default), then starts

* PgBouncer (Debian ``pgbouncer``; installed with apt-get when missing, as ``.ci/run``
  installs Chromium) on a free loopback port, in transaction pooling, in front of the
  PostgreSQL of ``--database-url`` (default ``postgres://postgres@127.0.0.1:5432/
  fairshare_cluster``, trust auth; created, migrated and seeded when new);
* N app nodes, ``fairshare serve`` on free loopback ports, each with a data folder of its
  own (``node1/``, ``node2/``, ...: nothing a request needs may be found there) and the
  same keys (``keys.env``, generated once per run folder, mode 0600), talking to the
  database through PgBouncer (``FAIRSHARE_DB_POOLER=transaction``) and to Redis
  (``--redis-url``, default ``redis://127.0.0.1:6379/0``) for the cache and rate limits;
* HAProxy (Debian ``haproxy``) on ``--port`` (0: a free one) in front of the nodes, with
  HTTP health checks on ``/healthz``. A request with ``X-Fairshare-Node: node2`` goes to
  that node while it is up; every answer names its node in ``X-Fairshare-Node``.

``state.json`` in the run folder lists the processes and addresses (tests read it);
``status`` prints what HAProxy sees of each node (exit 1 unless every node is up).
Migrations run on a direct connection, never through the transaction pooler.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "deploy" / "cluster"
BIN = Path(sys.executable).parent
FAIRSHARE = str(BIN / "fairshare")
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/fairshare_cluster"
PACKAGES = {"haproxy": "haproxy", "pgbouncer": "pgbouncer"}  # binary -> Debian package
# Variables of the caller that must not leak into the nodes (they get their own).
_NOT_INHERITED = ("DATABASE_URL", "FAIRSHARE_DATA_DIR", "PROMETHEUS_MULTIPROC_DIR", "PORT")


def log(message: str) -> None:
    print(f"[cluster] {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )


def ensure_packages() -> dict[str, str]:
    """The HAProxy and PgBouncer binaries, installed from Debian's packages when missing."""
    missing = [pkg for name, pkg in PACKAGES.items() if binary(name) is None]
    if missing:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            sys.exit(f"[cluster] missing {', '.join(missing)}: apt-get install {' '.join(missing)}")
        log(f"installing {', '.join(missing)} (apt-get)")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    found = {name: binary(name) for name in PACKAGES}
    return {name: path for name, path in found.items() if path}


def b64key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii").rstrip("=")


def shared_keys(run_dir: Path) -> dict[str, str]:
    """One set of keys for every node of this run folder: generated once, kept in
    ``keys.env`` (0600). A real deployment puts them in /etc/fairshare/env."""
    path = run_dir / "keys.env"
    if not path.exists():
        keys = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FAIRSHARE_PII_KEY": secrets.token_urlsafe(32),
            "FAIRSHARE_VOUCHER_KEY": b64key(),
            "FAIRSHARE_LEDGER_KEY": b64key(),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.writelines(f"{k}={v}\n" for k, v in keys.items())
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{netloc}{parts.hostname}:{port}"))


def prepare_database(
    url: str, env: dict[str, str], *, fresh: bool, households: int, template: str = ""
) -> None:
    """Create the database when missing (``--fresh``: drop it first; ``--template``: as a
    copy of an already migrated one), migrate it on a direct connection, and seed the demo
    district into a new one."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            copy = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
    direct = {**env, "DATABASE_URL": url, "FAIRSHARE_DB_POOLER": "none"}
    direct["FAIRSHARE_DATA_DIR"] = str(Path(env["FAIRSHARE_CLUSTER_RUN_DIR"]) / "admin")
    commands = [] if template and not exists else [("migrate", "--noinput", "-v0")]
    commands.append(("createcachetable", "-v0"))
    if not exists and households:
        log(f"new database {name}: seeding {households} households")
        commands.append(("seed_demo", "--households", str(households), "--quiet"))
    for args in commands:
        subprocess.run([FAIRSHARE, *args], env=direct, check=True)


def render(template: str, target: Path, **values: Any) -> Path:
    text = Template((TEMPLATES / template).read_text()).substitute(values)
    target.write_text(text)
    return target


def spawn(args: list[str], log_path: Path, env: dict[str, str] | None = None) -> int:
    """A child in its own process group (stop and kill reach all of it), detached."""
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            args,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return proc.pid


def node_env(base: dict[str, str], run_dir: Path, name: str, pooled_url: str) -> dict[str, str]:
    """A node's variables; its own ones (not inherited) also go to ``<name>.env`` (0600),
    e.g. for ``env $(cat var/cluster/node1.env) fairshare shell`` as that node."""
    data_dir = run_dir / name
    data_dir.mkdir(exist_ok=True)
    own = {
        **{k: v for k, v in base.items() if os.environ.get(k) != v},
        "FAIRSHARE_DATA_DIR": str(data_dir),
        "DATABASE_URL": pooled_url,
        "FAIRSHARE_DB_POOLER": "transaction",
        "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "metrics"),
    }
    path = run_dir / f"{name}.env"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{k}={v}\n" for k, v in sorted(own.items()))
    return {**base, **own}


def base_env(args: argparse.Namespace, run_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        {
            "FAIRSHARE_NODES": str(args.nodes),
            "FAIRSHARE_PRIVATE_STORAGE": "database",
            "REDIS_URL": args.redis_url,
            "FAIRSHARE_TRUSTED_PROXY_HOPS": "1",
            "FAIRSHARE_SMS_BACKEND": "file",
            "PYTHONUNBUFFERED": "1",
            "FAIRSHARE_CLUSTER_RUN_DIR": str(run_dir),
        }
    )
    env.update(shared_keys(run_dir))
    for pair in args.env:
        key, _, value = pair.partition("=")
        env[key] = value
    return env


def http_status(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def haproxy_servers(run_dir: Path) -> dict[str, str]:
    """{node name: status} as HAProxy's health checks see it (stats socket)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(run_dir / "haproxy.sock"))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    except OSError:
        return {}
    lines = data.decode().splitlines()
    if not lines:
        return {}
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return {
        r["svname"]: r["status"]
        for r in rows
        if r.get("pxname") == "nodes" and r["svname"] not in ("BACKEND", "FRONTEND")
    }


def wait_until(check, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise RuntimeError(f"{what} not within {timeout:.0f} s")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (our own exited child) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def read_state(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / "state.json"
    return json.loads(path.read_text()) if path.exists() else None


def start(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir).resolve()
    state = read_state(run_dir)
    if state and any(alive(p["pid"]) for p in processes(state)):
        sys.exit(f"[cluster] already running in {run_dir}: `make cluster-stop` first")
    bins = ensure_packages()
    run_dir.mkdir(parents=True, exist_ok=True)
    env = base_env(args, run_dir)
    prepare_database(
        args.database_url,
        env,
        fresh=args.fresh,
        households=args.households,
        template=args.template,
    )
    state = {"run_dir": str(run_dir), "database_url": args.database_url, "nodes": []}
    try:
        start_pgbouncer(state, bins["pgbouncer"], args)
        names = [f"node{i}" for i in range(1, args.nodes + 1)]
        ports = {name: free_port() for name in names}
        start_haproxy(state, bins["haproxy"], args, ports)
        for name in names:
            env_n = node_env(env, run_dir, name, state["pooled_url"])
            serve = [FAIRSHARE, "serve", "--port", str(ports[name]), "--workers", str(args.workers)]
            pid = spawn(serve, run_dir / f"{name}.log", env_n)
            url = f"http://127.0.0.1:{ports[name]}"
            state["nodes"].append({"name": name, "port": ports[name], "pid": pid, "url": url})
        write_state(run_dir, state)
        for node in state["nodes"]:
            wait_until(lambda n=node: http_status(n["url"] + "/healthz") == 200, node["name"], 90)
        wait_until(
            lambda: set(haproxy_servers(run_dir).values()) == {"UP"}, "every node UP in HAProxy", 30
        )
    except Exception as exc:
        log(f"start failed: {exc}; logs in {run_dir}")
        stop_state(state)
        return 1
    log(f"{args.nodes} nodes behind {state['lb_url']} (PgBouncer :{state['pgbouncer_port']})")
    log(f"state: {run_dir / 'state.json'}; stop with `make cluster-stop`")
    return 0


def start_pgbouncer(state: dict[str, Any], exe: str, args: argparse.Namespace) -> None:
    run_dir = Path(state["run_dir"])
    direct = urlsplit(args.database_url)
    port = free_port()
    (run_dir / "userlist.txt").write_text(f'"{direct.username or "postgres"}" ""\n')
    ini = render(
        "pgbouncer.ini.in",
        run_dir / "pgbouncer.ini",
        run_dir=run_dir,
        port=port,
        pg_host=direct.hostname or "127.0.0.1",
        pg_port=direct.port or 5432,
        pool_size=args.pool_size,
        user=direct.username or "postgres",
    )
    # PgBouncer refuses to run as root: as root it takes the postgres user's identity.
    # (It reads its two files before that, and again on a reload: they are world-readable.)
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
    state["pgbouncer_pid"] = spawn([exe, *as_user, str(ini)], run_dir / "pgbouncer.log")
    state["pgbouncer_port"] = port
    state["pooled_url"] = with_port(args.database_url, port)
    wait_until(lambda: _accepts(port), "PgBouncer listening", 15)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start_haproxy(
    state: dict[str, Any], exe: str, args: argparse.Namespace, ports: dict[str, int]
) -> None:
    run_dir = Path(state["run_dir"])
    port = args.port or free_port()
    use = (f"    use-server {n} if {{ req.hdr(X-Fairshare-Node) -m str {n} }}" for n in ports)
    servers = (f"    server {n} 127.0.0.1:{p} check" for n, p in ports.items())
    cfg = render(
        "haproxy.cfg.in",
        run_dir / "haproxy.cfg",
        run_dir=run_dir,
        port=port,
        use_server="\n".join(use),
        servers="\n".join(servers),
    )
    subprocess.run([exe, "-c", "-q", "-f", str(cfg)], check=True)
    state["haproxy_pid"] = spawn([exe, "-W", "-db", "-f", str(cfg)], run_dir / "haproxy.log")
    state["lb_port"] = port
    state["lb_url"] = f"http://127.0.0.1:{port}"
    wait_until(lambda: _accepts(port), "HAProxy listening", 15)


def write_state(run_dir: Path, state: dict[str, Any]) -> None:
    (run_dir / "state.json").write_text(json.dumps(state, indent=1))


def processes(state: dict[str, Any]) -> list[dict[str, Any]]:
    found = [{"name": n["name"], "pid": n["pid"]} for n in state.get("nodes", [])]
    for name in ("haproxy", "pgbouncer"):
        if state.get(f"{name}_pid"):
            found.append({"name": name, "pid": state[f"{name}_pid"]})
    return found


def stop_state(state: dict[str, Any]) -> None:
    """SIGTERM each process group (nodes first, PgBouncer last), SIGKILL after 10 s."""
    procs = processes(state)
    for proc in procs:
        with _quiet():
            os.killpg(proc["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p["pid"]) for p in procs):
        time.sleep(0.2)
    for proc in procs:
        with _quiet():
            os.killpg(proc["pid"], signal.SIGKILL)
    state_file = Path(state["run_dir"]) / "state.json"
    state_file.unlink(missing_ok=True)


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        return kind is not None and issubclass(kind, OSError)


def stop(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir).resolve()
    state = read_state(run_dir)
    if state is None:
        log(f"nothing running in {run_dir}")
        return 0
    stop_state(state)
    log("stopped")
    return 0


def status(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir).resolve()
    state = read_state(run_dir)
    if state is None:
        log(f"not running ({run_dir} has no state.json)")
        return 1
    seen = haproxy_servers(run_dir)
    for proc in processes(state):
        health = seen.get(proc["name"], "")
        print(
            f"{proc['name']:<10} pid {proc['pid']:<8} {'alive' if alive(proc['pid']) else 'DEAD'}"
            f"  {health}"
        )
    print(f"balancer   {state['lb_url']}  (healthz {http_status(state['lb_url'] + '/healthz')})")
    ok = all(alive(p["pid"]) for p in processes(state)) and set(seen.values()) == {"UP"}
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("command", choices=["start", "stop", "status"])
    ap.add_argument("--run-dir", default=str(ROOT / "var" / "cluster"))
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    ap.add_argument("--port", type=int, default=8080, help="HAProxy's port (0: a free one)")
    ap.add_argument("--database-url", default=os.environ.get("CLUSTER_DATABASE_URL", DEFAULT_DB))
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--pool-size", type=int, default=10, help="PgBouncer server connections")
    ap.add_argument("--households", type=int, default=600, help="seeded in a new database")
    ap.add_argument("--fresh", action="store_true", help="drop and re-create the database")
    ap.add_argument("--template", default="", help="create the database as a copy of this one")
    ap.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="extra node variable"
    )
    args = ap.parse_args(argv)
    if args.command == "start" and args.nodes < 2:
        ap.error("--nodes: at least 2")
    return {"start": start, "stop": stop, "status": status}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
