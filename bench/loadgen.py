"""HTTP/1.1 load generator for the Fairshare benchmark (stdlib only, one process, asyncio).

Three models:

* ``open``: a fixed arrival rate per step. Request *i* of a step is due at
  ``start + i / rate`` and is sent at that time whether or not earlier requests have
  been answered (a request waits only for a free connection when the pool cap is
  reached). Latency is measured from the *scheduled* send time, so a slow server
  cannot hide its slowness by slowing the generator down (no coordinated omission).
* ``closed``: N concurrent clients, each sends its next request when the previous
  answer arrived (for the ceilings and for redemption saturation).
* ``paced``: N clients (scanners), each on its own fixed schedule: client *c* sends its
  *k*-th request at ``start + (c / N + k) * interval`` whether or not its previous one
  was answered (an open model per client; the clients' phases are spread evenly over
  one interval). Latency is measured from the scheduled send time, as in ``open``.

Jobs are either one repeated request (``--path``) or a JSON-lines file of distinct
requests used once each (``--jobs``: ``{"method", "path", "body", "headers", "tag"}``).
Connections are kept alive when the server allows it; gunicorn's sync workers answer
``Connection: close``, so the pool reconnects (loopback, cheap) as a browser would.

``--serve-static PORT`` runs a minimal keep-alive HTTP server answering a fixed JSON
body: the generator's own ceiling is measured against it.

Output: one JSON document (``--out``) with per-step counts, latency percentiles,
errors by kind, and per-request outcomes for the caller's invariant checks
(``tickets`` of 201 answers; ``outcomes`` = [tag, status] when jobs carry tags).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time
from collections import Counter, deque
from typing import Any

MAX_BODY = 1 << 20


class HttpConn(asyncio.Protocol):
    """One HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiting = self.waiter is not None and not self.waiter.done()
        if waiting and not self._try_parse(eof=True):
            self.waiter.set_exception(  # type: ignore[union-attr]
                ConnectionResetError("connection closed by server")
            )

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.waiter is not None and not self.waiter.done():
            self._try_parse(eof=False)

    def _try_parse(self, *, eof: bool) -> bool:
        head_end = self.buf.find(b"\r\n\r\n")
        if head_end < 0:
            return False
        head = bytes(self.buf[:head_end]).decode("latin-1")
        lines = head.split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            self.waiter.set_exception(ValueError("bad status line"))  # type: ignore[union-attr]
            return True
        length = None
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        body_start = head_end + 4
        if length is None:  # read to EOF (only with Connection: close)
            if not eof:
                return False
            length = len(self.buf) - body_start
        if len(self.buf) - body_start < length:
            return False
        body = bytes(self.buf[body_start : body_start + length])
        del self.buf[: body_start + length]
        self.waiter.set_result((status, body, close or eof))  # type: ignore[union-attr]
        return True

    def request(self, data: bytes) -> asyncio.Future:
        self.waiter = asyncio.get_running_loop().create_future()
        if self.closed or self.transport is None:
            self.waiter.set_exception(ConnectionResetError("connection already closed"))
        else:
            self.transport.write(data)
        return self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Pool:
    """At most ``cap`` connections; requests beyond that wait for one (FIFO)."""

    def __init__(self, host: str, port: int, cap: int) -> None:
        self.host, self.port, self.cap = host, port, cap
        self.idle: deque[HttpConn] = deque()
        self.count = 0
        self.waiters: deque[asyncio.Future] = deque()
        self.connects = 0

    async def _connect(self) -> HttpConn:
        loop = asyncio.get_running_loop()
        try:
            # A pre-connected socket skips getaddrinfo (run in a thread pool by asyncio).
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await loop.sock_connect(sock, (self.host, self.port))
            except BaseException:
                sock.close()
                raise
            _, conn = await loop.create_connection(HttpConn, sock=sock)
        except BaseException:
            self._slot_freed()
            raise
        self.connects += 1
        return conn

    async def acquire(self) -> HttpConn:
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                return conn
            self.count -= 1
        if self.count < self.cap:
            self.count += 1
            return await self._connect()
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append(fut)
        conn = await fut
        return conn if conn is not None else await self._connect()

    def _slot_freed(self) -> None:
        """A connection slot is free: hand it to a waiter (who connects) or drop it."""
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot stays counted; the waiter connects
                return
        self.count -= 1

    def release(self, conn: HttpConn, *, reusable: bool) -> None:
        if not reusable or conn.closed:
            conn.close()
            self._slot_freed()
            return
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(conn)
                return
        self.idle.append(conn)

    def close_all(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def error_kind(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "conn_refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "conn_reset"
    if isinstance(exc, asyncio.CancelledError | TimeoutError):
        return "timeout"
    return type(exc).__name__


class Recorder:
    """Results of one step."""

    def __init__(self, expect: set[int]) -> None:
        self.expect = expect
        self.lat: list[float] = []
        self.status: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.tickets: list[str] = []
        self.outcomes: list[list[Any]] = []
        self.first_done = self.last_done = 0.0
        self.ok = 0

    def done(self, tag: Any, status: int | None, body: bytes, t_ref: float, t_end: float) -> None:
        self.lat.append(t_end - t_ref)
        self.last_done = max(self.last_done, t_end)
        if status is None:
            return
        self.status[str(status)] += 1
        if tag is not None:
            self.outcomes.append([tag, status])
        if status in self.expect:
            self.ok += 1
            if status == 201 and b'"ticket"' in body:
                try:
                    self.tickets.append(json.loads(body)["ticket"])
                except (ValueError, KeyError, TypeError):
                    self.errors["bad_201_body"] += 1
        else:
            self.errors[f"http_{status}"] += 1

    def fail(self, tag: Any, kind: str, t_ref: float, t_end: float) -> None:
        self.lat.append(t_end - t_ref)
        self.errors[kind] += 1
        if tag is not None:
            self.outcomes.append([tag, kind])


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p99_ms": None, "p999_ms": None, "max_ms": None}
    s = sorted(values)

    def pick(q: float) -> float:
        return round(s[min(len(s) - 1, int(q * len(s)))] * 1000, 2)

    return {
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
        "p999_ms": pick(0.999),
        "max_ms": round(s[-1] * 1000, 2),
    }


async def one(pool: Pool, rec: Recorder, data: bytes, tag: Any, t_ref: float) -> None:
    loop = asyncio.get_running_loop()
    conn = None
    try:
        conn = await pool.acquire()
        status, body, close = await conn.request(data)
    except BaseException as exc:
        if conn is not None:
            pool.release(conn, reusable=False)
        rec.fail(tag, error_kind(exc), t_ref, loop.time())
        if isinstance(exc, asyncio.CancelledError):
            raise
        return
    pool.release(conn, reusable=not close)
    rec.done(tag, status, body, t_ref, loop.time())


def cpu_mark() -> tuple[float, float]:
    """(CPU seconds of this process, wall clock) at the start of a step."""
    return time.process_time(), time.perf_counter()


def generator_cpu(mark: tuple[float, float]) -> dict[str, Any]:
    """The generator's own CPU over a step (send, wait, drain): ``generator_cores`` = CPU s /
    wall s, ``generator_share`` = that / the machine's cores."""
    cpu, wall = time.process_time() - mark[0], time.perf_counter() - mark[1]
    cores = cpu / wall if wall > 0 else 0.0
    return {
        "generator": "loadgen.py",
        "generator_cpu_s": round(cpu, 3),
        "generator_wall_s": round(wall, 3),
        "generator_cores": round(cores, 3),
        "generator_share": round(cores / (os.cpu_count() or 1), 3),
    }


def summarize(
    rec: Recorder,
    *,
    t0: float,
    n: int,
    offered: float | None,
    duration: float,
    mark: tuple[float, float] | None = None,
) -> dict[str, Any]:
    span = max(duration, rec.last_done - t0) if rec.last_done else duration
    out: dict[str, Any] = {
        "requests": n,
        "ok": rec.ok,
        "duration_s": round(span, 3),
        "ok_per_s": round(rec.ok / span, 1) if span else 0.0,
        "status": dict(rec.status),
        "errors": dict(rec.errors),
        "error_rate": round(sum(rec.errors.values()) / n, 5) if n else 0.0,
        **percentiles(rec.lat),
    }
    if offered is not None:
        out["offered_per_s"] = offered
    if mark is not None:
        out.update(generator_cpu(mark))
    return out


async def run_open(
    pool: Pool,
    jobs: JobSource,
    steps: list[dict[str, float]],
    expect: set[int],
    drain_s: float,
    pause_s: float,
) -> tuple[list[dict], Recorder]:
    loop = asyncio.get_running_loop()
    results: list[dict] = []
    total = Recorder(expect)
    for step in steps:
        rate, duration = float(step["rate"]), float(step["duration"])
        n = int(rate * duration)
        if jobs.remaining() < n:
            results.append(
                {
                    "offered_per_s": rate,
                    "skipped": "not enough distinct jobs left",
                    "jobs_left": jobs.remaining(),
                }
            )
            break
        rec = Recorder(expect)
        tasks: list[asyncio.Task] = []
        mark = cpu_mark()
        t0 = loop.time() + 0.05
        i = 0
        while i < n:
            due = min(n, int((loop.time() - t0) * rate) + 1)
            while i < due:
                data, tag = jobs.next()
                tasks.append(loop.create_task(one(pool, rec, data, tag, t0 + i / rate)))
                i += 1
            delay = t0 + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        sent_late = loop.time() - (t0 + (n - 1) / rate)
        _, pending = await asyncio.wait(tasks, timeout=duration + drain_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        summary = summarize(rec, t0=t0, n=n, offered=rate, duration=duration, mark=mark)
        summary["schedule_lag_ms"] = round(max(0.0, sent_late) * 1000, 1)
        summary["connections_opened"] = pool.connects
        summary["saturated"] = bool(
            summary["error_rate"] > 0.01
            or (summary["p99_ms"] or 0) > 1000
            or summary["ok_per_s"] < 0.9 * rate
        )
        results.append(summary)
        total.tickets += rec.tickets
        total.outcomes += rec.outcomes
        if summary["saturated"]:
            break
        await asyncio.sleep(pause_s)
    return results, total


async def run_paced(
    pool: Pool,
    jobs: JobSource,
    clients: int,
    interval: float,
    duration: float,
    expect: set[int],
    drain_s: float,
) -> tuple[list[dict], Recorder]:
    """``clients`` scanners, each sending one request every ``interval`` seconds on its own
    fixed schedule; the merged schedule is dispatched in time order."""
    loop = asyncio.get_running_loop()
    rec = Recorder(expect)
    rounds = max(1, round(duration / interval))
    schedule = sorted((c / clients + k) * interval for k in range(rounds) for c in range(clients))
    n = min(len(schedule), jobs.remaining())
    tasks: list[asyncio.Task] = []
    mark = cpu_mark()
    t0 = loop.time() + 0.05
    for i in range(n):
        due = t0 + schedule[i]
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        data, tag = jobs.next()
        tasks.append(loop.create_task(one(pool, rec, data, tag, due)))
    sent_late = loop.time() - (t0 + schedule[n - 1]) if n else 0.0
    pending: set[asyncio.Task] = set()
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=duration + drain_s)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    summary = summarize(
        rec, t0=t0, n=n, offered=clients / interval, duration=rounds * interval, mark=mark
    )
    summary.update(
        clients=clients,
        interval_s=interval,
        scheduled=len(schedule),
        schedule_lag_ms=round(max(0.0, sent_late) * 1000, 1),
        connections_opened=pool.connects,
    )
    if n < len(schedule):
        summary["jobs_short"] = len(schedule) - n
    return [summary], rec


async def run_closed(
    pool: Pool, jobs: JobSource, clients: int, duration: float, expect: set[int]
) -> tuple[list[dict], Recorder]:
    loop = asyncio.get_running_loop()
    rec = Recorder(expect)
    mark = cpu_mark()
    t0 = loop.time()
    deadline = t0 + duration
    sent = 0

    async def client() -> None:
        nonlocal sent
        while loop.time() < deadline and jobs.remaining() > 0:
            data, tag = jobs.next()
            sent += 1
            await one(pool, rec, data, tag, loop.time())

    await asyncio.gather(*(client() for _ in range(clients)))
    summary = summarize(rec, t0=t0, n=sent, offered=None, duration=loop.time() - t0, mark=mark)
    summary["clients"] = clients
    summary["connections_opened"] = pool.connects
    return [summary], rec


class JobSource:
    def __init__(self, host: str, port: int, *, path: str | None, jobs_file: str | None) -> None:
        self.items: list[tuple[bytes, Any]] = []
        self.repeat: bytes | None = None
        self.pos = 0
        hosthdr = f"Host: {host}:{port}\r\n"
        if path is not None:
            self.repeat = f"GET {path} HTTP/1.1\r\n{hosthdr}\r\n".encode()
        else:
            with open(jobs_file or "", encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        job = json.loads(line)
                        self.items.append((self.build(job, hosthdr), job.get("tag")))

    @staticmethod
    def build(job: dict[str, Any], hosthdr: str) -> bytes:
        body = (job.get("body") or "").encode()
        head = f"{job.get('method', 'GET')} {job['path']} HTTP/1.1\r\n{hosthdr}"
        for name, value in (job.get("headers") or {}).items():
            head += f"{name}: {value}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return head.encode() + b"\r\n" + body

    def remaining(self) -> int:
        return 1 << 62 if self.repeat is not None else len(self.items) - self.pos

    def next(self) -> tuple[bytes, Any]:
        if self.repeat is not None:
            return self.repeat, None
        item = self.items[self.pos]
        self.pos += 1
        return item


async def serve_static(port: int, close: bool) -> None:
    body = b'{"ok":true}'
    resp = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n"
        + (b"Connection: close\r\n" if close else b"")
        + b"\r\n"
        + body
    )

    class Static(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.t = transport
            self.buf = b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            while True:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buf[:end].lower()
                length = 0
                at = head.find(b"content-length:")
                if at >= 0:
                    length = int(head[at + 15 :].split(b"\r\n", 1)[0])
                if len(self.buf) < end + 4 + length:
                    return
                self.buf = self.buf[end + 4 + length :]
                self.t.write(resp)  # type: ignore[attr-defined]
                if close:
                    self.t.close()  # type: ignore[attr-defined]
                    return

    server = await asyncio.get_running_loop().create_server(Static, "127.0.0.1", port, backlog=2048)
    print(f"static server on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--serve-static", action="store_true")
    ap.add_argument("--close", action="store_true", help="static server: close after each answer")
    ap.add_argument("--model", choices=["open", "closed", "paced"], default="open")
    ap.add_argument("--path", help="repeat GET of this path")
    ap.add_argument("--jobs", help="JSON-lines file of distinct requests, each sent once")
    ap.add_argument("--steps", default="250:6", help="open model: rate:seconds,rate:seconds,...")
    ap.add_argument(
        "--clients", type=int, default=50, help="closed/paced model: concurrent clients"
    )
    ap.add_argument("--duration", type=float, default=5.0, help="closed/paced model: seconds")
    ap.add_argument(
        "--interval", type=float, default=1.0, help="paced model: seconds between a client's sends"
    )
    ap.add_argument("--expect", default="200", help="statuses counted as success, e.g. 201")
    ap.add_argument("--pool-cap", type=int, default=512)
    ap.add_argument("--drain", type=float, default=10.0, help="seconds to wait after a step")
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between steps")
    ap.add_argument("--out", help="write the JSON result here (default stdout)")
    args = ap.parse_args(argv)
    if args.serve_static:
        asyncio.run(serve_static(args.port, args.close))
        return 0
    if (args.path is None) == (args.jobs is None):
        ap.error("give exactly one of --path and --jobs")
    jobs = JobSource(args.host, args.port, path=args.path, jobs_file=args.jobs)
    expect = {int(s) for s in args.expect.split(",")}
    steps = [
        {"rate": float(r), "duration": float(d)}
        for r, d in (s.split(":") for s in args.steps.split(","))
    ]

    async def go() -> tuple[list[dict], Recorder]:
        pool = Pool(args.host, args.port, args.pool_cap)
        try:
            if args.model == "open":
                return await run_open(pool, jobs, steps, expect, args.drain, args.pause)
            if args.model == "paced":
                return await run_paced(
                    pool, jobs, args.clients, args.interval, args.duration, expect, args.drain
                )
            return await run_closed(pool, jobs, args.clients, args.duration, expect)
        finally:
            pool.close_all()

    started = time.time()
    results, rec = asyncio.run(go())
    doc = {
        "model": args.model,
        "started": started,
        "steps": results,
        "tickets": rec.tickets,
        "outcomes": rec.outcomes,
    }
    text = json.dumps(doc)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
