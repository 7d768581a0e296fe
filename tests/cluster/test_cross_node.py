"""Cross-node flows through the balancer of `make cluster` (issue 17, stateless nodes).

Each step names the node it wants with ``X-Fairshare-Node`` (HAProxy routes on it while
that node is up, and every answer says which node served it), so "registered on one,
looked up on the other" is checked, not hoped for. The last test SIGKILLs a node in the
middle of a registration burst: clients retry 502/503 and connection errors with the same
Idempotency-Key, and nothing acknowledged is lost or stored twice.
"""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.cluster.conftest import run_script
from tests.support.liveserver import FAIRSHARE

# django_db: so that the test database (the cluster's template) is created in this run.
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
RETRIED = {502, 503, 504}
BURST = 100  # registrations in the kill test


class Client:
    """urllib with cookies and no redirects; ``node`` asks the balancer for one node."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.cookies if c.name == name)

    def call(
        self,
        method: str,
        path: str,
        *,
        node: str | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 15,
    ) -> tuple[int, dict[str, str], bytes]:
        data, head = None, dict(headers or {})
        if json_body is not None:
            data, head["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif files is not None or form is not None:
            data, head["Content-Type"] = _multipart(form or {}, files or {})
        if node:
            head["X-Fairshare-Node"] = node
        if method == "POST" and any(c.name == "csrftoken" for c in self.cookies):
            head.setdefault("X-CSRFToken", self.cookie("csrftoken"))
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        for key, value in head.items():
            request.add_header(key, value)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, _lower(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, _lower(exc.headers), exc.read()


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _multipart(form: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in form.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, content, kind) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _sql(cluster: dict[str, Any], query: str, params: list[Any] | None = None) -> list[tuple]:
    with psycopg.connect(cluster["direct_url"]) as conn:
        return conn.execute(query, params or []).fetchall()


def _open_round(cluster: dict[str, Any]) -> int:
    return int(_sql(cluster, "SELECT id FROM rounds_round WHERE status = 'open' ORDER BY id")[0][0])


def _homes(cluster: dict[str, Any], code: str) -> list[tuple[int, int, str, str, str]]:
    """(building id, household id, building label, room, roster name) of a committee."""
    return [
        (int(b), int(h), label, room, name)
        for b, h, label, room, name in _sql(
            cluster,
            "SELECT b.id, h.id, b.label, h.room, "
            "(SELECT m.name FROM community_member m WHERE m.household_id = h.id "
            " ORDER BY m.id LIMIT 1) "
            "FROM community_household h JOIN community_building b ON b.id = h.building_id "
            "JOIN community_committee c ON c.id = b.committee_id "
            "WHERE c.code = %s AND NOT EXISTS (SELECT 1 FROM registration_registration r "
            " WHERE r.household_id = h.id) ORDER BY b.sort_order, b.label, h.room",
            [code],
        )
    ]


def _register(client: Client, round_id: int, code: str, home: tuple, phone: str, **kw: Any):
    body = {"committee": code, "building": home[2], "room": home[3], "name": home[4]}
    return client.call(
        "POST",
        f"/api/v1/rounds/{round_id}/registrations",
        json_body={**body, "phone": phone},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        **kw,
    )


def test_registered_on_one_node_looked_up_on_the_other(cluster):
    client = Client(cluster["lb_url"])
    round_id = _open_round(cluster)
    home = _homes(cluster, "KJ01")[0]
    status, head, body = _register(client, round_id, "KJ01", home, "13900000001", node="node1")
    assert status == 201 and head["x-fairshare-node"] == "node1", body
    answer = json.loads(body)
    status, head, body = client.call(
        "POST",
        f"/api/v1/registrations/{answer['ticket']}/status",
        json_body={"phone": "13900000001"},
        node="node2",
    )
    assert status == 200 and head["x-fairshare-node"] == "node2", body
    assert json.loads(body)["queue_number"] == answer["queue_number"]
    # The node's own port (no balancer) sees it too; a wrong phone is refused there as well.
    node2 = Client(cluster["nodes"][1]["url"])
    path = f"/api/v1/registrations/{answer['ticket']}/status"
    assert node2.call("POST", path, json_body={"phone": "13900000001"})[0] == 200
    assert node2.call("POST", path, json_body={"phone": "13900000009"})[0] == 404


def test_photo_uploaded_on_one_node_reviewed_on_the_other(cluster):
    round_id = _open_round(cluster)
    building, household, *_ = _homes(cluster, "KJ02")[0]
    resident = Client(cluster["lb_url"])
    page = f"/r/{round_id}/KJ02/photo/"
    assert resident.call("GET", page, node="node1")[0] == 200  # the CSRF cookie
    form = {"building": str(building), "room": str(household), "name": "张三明"}
    form["phone"] = "13900000002"
    status, head, body = resident.call(
        "POST", page, node="node1", form=form, files={"photo": ("id.png", PNG, "image/png")}
    )
    assert status == 302 and head["x-fairshare-node"] == "node1", body[:500]
    # The confirmation page, on the other node, knows this browser's session.
    status, head, body = resident.call("GET", head["location"], node="node2")
    assert status == 200 and head["x-fairshare-node"] == "node2", body[:300]
    (pk,) = _sql(
        cluster,
        "SELECT id FROM registration_registration WHERE household_id = %s AND round_id = %s",
        [household, round_id],
    )[0]

    staff = Client(cluster["lb_url"])
    assert staff.call("GET", "/accounts/login/", node="node1")[0] == 200
    status, _, body = staff.call(
        "POST",
        "/accounts/login/",
        node="node1",
        form={"username": "committee02", "password": "demo"},
    )
    assert status == 302, body[:500]
    status, head, body = staff.call("GET", f"/r/photos/{pk}/", node="node2")
    assert status == 200 and head["x-fairshare-node"] == "node2"
    assert body == PNG
    status, head, _ = staff.call("POST", f"/r/review/{pk}/approve/", node="node2", form={})
    assert status == 302 and head["x-fairshare-node"] == "node2"
    assert _sql(cluster, "SELECT status FROM registration_registration WHERE id = %s", [pk]) == [
        ("verified",)
    ]
    # Negative control: without the session cookie the other node shows no photo.
    assert Client(cluster["lb_url"]).call("GET", f"/r/photos/{pk}/", node="node2")[0] == 302


def _token(client: Client, username: str, node: str) -> str:
    status, _, body = client.call(
        "POST",
        "/api/v1/auth/token",
        json_body={"username": username, "password": "demo"},
        node=node,
    )
    assert status == 200, body
    return str(json.loads(body)["token"])


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_voucher_signed_on_one_node_verifies_offline_with_the_others_key(cluster):
    client = Client(cluster["lb_url"])
    round_id = _open_round(cluster)
    home = _homes(cluster, "KJ03")[0]
    status, _, body = _register(client, round_id, "KJ03", home, "13900000003", node="node1")
    assert status == 201 and json.loads(body)["status"] == "verified", body
    (pharmacy,) = _sql(
        cluster,
        "SELECT p.code FROM community_pharmacy p JOIN community_committee c "
        "ON c.pharmacy_id = p.id WHERE c.code = 'KJ03'",
    )[0]
    today = _sql(cluster, "SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date::text")[0][0]
    supply = {"date": today, "packs": 50, "manufacturer": "稳健医疗", "style": "平面口罩"}
    auth = {"Authorization": f"Bearer {_token(client, 'pharmacy' + pharmacy[1:], 'node1')}"}
    status, _, body = client.call(
        "POST",
        f"/api/v1/pharmacies/{pharmacy}/supplies",
        json_body={**supply, "unit_price": "9.90"},
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
        node="node2",
    )
    assert status == 201, body
    auth = {"Authorization": f"Bearer {_token(client, 'subdistrict', 'node2')}"}
    status, _, body = client.call(
        "POST",
        f"/api/v1/rounds/{round_id}/allocations",
        json_body={"date": today, "pharmacy": pharmacy},
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
        node="node1",
    )
    assert status in (200, 201), body
    code = next(v["code"] for v in json.loads(body)["vouchers"] if v["committee"] == "KJ03")

    # Signed by node1's process environment (the QR token of its slips and status page).
    script = (
        "from fairshare.allocation.models import Voucher\n"
        "from fairshare.allocation.notify import voucher_token\n"
        "from fairshare.allocation.tokens import code_normalize\n"
        f"print(voucher_token(Voucher.objects.get(code=code_normalize({code!r}))))"
    )
    env = _node_env(cluster, "node1")
    signed = subprocess.run(
        [FAIRSHARE, "shell", "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert signed.returncode == 0, signed.stderr[-2000:]
    token = signed.stdout.strip().splitlines()[-1]

    keys = {}
    for node in ("node1", "node2"):
        status, head, body = client.call("GET", "/api/v1/public/voucher-key", node=node)
        assert status == 200 and head["x-fairshare-node"] == node
        keys[node] = json.loads(body)["key"]
    assert keys["node1"] == keys["node2"]
    prefix, payload, signature = token.split(".")
    key = Ed25519PublicKey.from_public_bytes(_unb64(keys["node2"]))
    key.verify(_unb64(signature), f"{prefix}.{payload}".encode())  # raises when forged
    assert json.loads(_unb64(payload))["c"].replace("-", "") == code.replace("-", "")
    with pytest.raises(InvalidSignature):  # negative control: a changed payload
        forged = base64.urlsafe_b64encode(_unb64(payload).replace(b'"k":', b'"k":9')).rstrip(b"=")
        key.verify(_unb64(signature), f"{prefix}.".encode() + forged)


def _node_env(cluster: dict[str, Any], name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    path = Path(cluster["run_dir"]) / f"{name}.env"
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    return env


def test_node_killed_mid_burst_loses_nothing_and_the_balancer_routes_around_it(cluster):
    round_id = _open_round(cluster)
    codes = [f"KJ{n:02d}" for n in range(4, 26)]  # KJ01-KJ03: the tests above
    homes = [(code, h) for code in codes for h in _homes(cluster, code)][:BURST]
    assert len(homes) == BURST
    client = Client(cluster["lb_url"])
    acked: dict[int, dict[str, Any]] = {}
    after_kill: list[str] = []  # the nodes that answered once the victim was dead
    retried: list[int] = []
    failures: list[Any] = []
    lock = threading.Lock()
    todo = iter(range(len(homes)))
    killed = threading.Event()

    def one(i: int) -> None:
        code, home = homes[i]
        body = {"committee": code, "building": home[2], "room": home[3], "name": "李小红"}
        body["phone"] = f"1370000{i:04d}"
        key = f"burst-{round_id}-{i}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sent_after_kill = killed.is_set()
            try:
                status, head, raw = client.call(
                    "POST",
                    f"/api/v1/rounds/{round_id}/registrations",
                    json_body=body,
                    headers={"Idempotency-Key": key},
                    timeout=10,
                )
            except OSError:
                status, head, raw = 0, {}, b""
            if status in (200, 201):
                with lock:
                    acked[i] = json.loads(raw)
                    if sent_after_kill:
                        after_kill.append(head.get("x-fairshare-node", "?"))
                return
            if status and status not in RETRIED:
                failures.append((i, status, raw[:200]))
                return
            retried.append(status)  # 0: no answer (connection reset, timeout)
            time.sleep(0.1)
        failures.append((i, "gave up"))

    def worker() -> None:
        while (i := next(todo, None)) is not None:
            one(i)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    while len(acked) < 15 and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    os.killpg(cluster["nodes"][0]["pid"], signal.SIGKILL)
    killed.set()
    assert len(acked) < BURST - 20, "the burst was over before the kill"
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert len(acked) == len(homes)  # every household got its answer in the end
    assert after_kill and set(after_kill) == {"node2"}, after_kill  # routed around node1
    print(f"{len(retried)} retried answers after the kill: {sorted(set(retried))}")

    stored = dict(
        _sql(
            cluster,
            "SELECT ticket, queue_number FROM registration_registration WHERE ticket = ANY(%s)",
            [[a["ticket"] for a in acked.values()]],
        )
    )
    lost = [a for a in acked.values() if stored.get(a["ticket"]) != a["queue_number"]]
    assert lost == []  # every acknowledged ticket is stored, with its queue number
    households = [h[1] for _, h in homes]
    per_household = _sql(
        cluster,
        "SELECT household_id, count(*) FROM registration_registration "
        "WHERE round_id = %s AND household_id = ANY(%s) GROUP BY household_id",
        [round_id, households],
    )
    assert sorted(per_household) == sorted((h, 1) for h in households)  # none twice
    # HAProxy marks a server DOWN after two failed checks (fall 2, fastinter 250 ms); on a
    # busy machine the burst can end before the second one, so the status may still read
    # "UP 1/2" (going down). It must read DOWN within a few check intervals.
    deadline = time.monotonic() + 10
    while True:
        seen = run_script("status", "--run-dir", cluster["run_dir"])
        if "DOWN" in seen.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert seen.returncode == 1 and "DEAD" in seen.stdout and "DOWN" in seen.stdout, seen.stdout
