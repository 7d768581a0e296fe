"""``/metrics``: database gauges match the records; 429 and 503 answers are counted;
only area staff or a listed address may read it (operations/metrics.py)."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from fairshare.accounts.models import ApiToken
from fairshare.allocation.models import Voucher
from fairshare.core.models import OutboxMessage
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    RoundFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
HOMES = (("301", "张三明"), ("302", "李四"), ("303", "王五"))


@pytest.fixture(autouse=True)
def _morning(monkeypatch):
    # Allocation as if it were 07:00 today, so every pickup slot of today is ahead.
    from fairshare.allocation import engine

    moment = timezone.make_aware(datetime.combine(timezone.localdate(), time(7, 0)))
    monkeypatch.setattr(engine, "_local_now", lambda: moment)


@pytest.fixture
def place(settings):
    settings.RATELIMIT_ENABLED = False
    committee = CommitteeFactory(code="KJ01")
    building = BuildingFactory(committee=committee, label="12号")
    for room, name in HOMES:
        MemberFactory(household=HouseholdFactory(building=building, room=room), name=name)
    rnd = RoundFactory(district=committee.subdistrict.district)
    area = UserFactory(role="subdistrict", subdistrict=committee.subdistrict)
    return {"committee": committee, "round": rnd, "area": area}


def _bearer(user) -> dict[str, str]:
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _register(client, place, home: int, phone: str):
    room, name = HOMES[home]
    body = {"committee": "KJ01", "building": "12号", "room": room, "name": name, "phone": phone}
    url = f"/api/v1/rounds/{place['round'].pk}/registrations"
    return client.post(url, body, content_type="application/json")


def _post(client, url: str, body: dict, headers: dict):
    return client.post(url, body, content_type="application/json", **headers)


def scrape(client: Client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def _area_client(place) -> Client:
    client = Client()
    client.force_login(place["area"])
    return client


def _flow(place) -> None:
    """Three registrations, two vouchers, one redemption, all through the API."""
    client = Client()
    for home in range(3):
        assert _register(client, place, home, f"1381234567{home}").status_code == 201
    pharmacy = place["committee"].pharmacy
    headers = _bearer(place["area"])
    today = timezone.localdate().isoformat()
    supply = {"date": today, "packs": 2, "manufacturer": "厂家", "style": "平面"}
    supply["unit_price"] = "2.50"
    url = f"/api/v1/pharmacies/{pharmacy.code}/supplies"
    assert _post(client, url, supply, headers).status_code == 201
    url = f"/api/v1/rounds/{place['round'].pk}/allocations"
    run = _post(client, url, {"date": today, "pharmacy": pharmacy.code}, headers)
    assert run.status_code == 201 and run.json()["issued"] == 2, run.content
    voucher = Voucher.objects.order_by("pk").first()
    owner = UserFactory(role="pharmacy", pharmacy=pharmacy)
    url = f"/api/v1/vouchers/{voucher.code}/redeem"
    assert _post(client, url, {}, _bearer(owner)).status_code == 200


def test_gauges_match_the_records_after_registering_allocating_redeeming(place):
    _flow(place)
    rnd = str(place["round"].pk)
    samples = scrape(_area_client(place))
    regs = {
        dict(labels)["status"]: v
        for (name, labels), v in samples.items()
        if name == "fairshare_registrations" and dict(labels)["round"] == rnd
    }
    assert sum(regs.values()) == 3
    vouchers = {
        dict(labels)["status"]: v
        for (name, labels), v in samples.items()
        if name == "fairshare_vouchers" and dict(labels)["round"] == rnd
    }
    assert vouchers == {"issued": 1, "redeemed": 1}
    assert samples[("fairshare_redemptions", (("channel", "online"), ("round", rnd)))] == 1
    pending = OutboxMessage.objects.filter(status="pending").count()
    assert pending > 0  # registration and voucher SMS wait for the outbox worker
    assert samples[("fairshare_outbox_messages", (("status", "pending"),))] == pending
    assert samples[("fairshare_outbox_due", ())] == pending
    assert samples[("fairshare_outbox_oldest_due_seconds", ())] >= 0


def test_an_empty_outbox_has_no_backlog(place):
    samples = scrape(_area_client(place))
    assert samples[("fairshare_outbox_due", ())] == 0
    assert samples[("fairshare_outbox_oldest_due_seconds", ())] == 0


def _counted(samples, status: int) -> float:
    return samples[("fairshare_http_responses_total", (("status", str(status)),))]


def _refuse(execute, sql, params, many, context):
    raise OperationalError("connection refused")


def test_a_429_and_a_503_are_counted(place, settings):
    client = _area_client(place)
    before = scrape(client)
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMITS = {"register": {"phone": (1, 600)}}
    anonymous = Client(raise_request_exception=False)
    assert _register(anonymous, place, 0, "13900000001").status_code == 201
    assert _register(anonymous, place, 1, "13900000001").status_code == 429
    with connection.execute_wrapper(_refuse):
        assert anonymous.get("/").status_code == 503
    after = scrape(client)
    assert _counted(after, 429) == _counted(before, 429) + 1
    assert _counted(after, 503) == _counted(before, 503) + 1


def test_anonymous_from_an_unlisted_address_gets_no_figures(place, settings):
    settings.FAIRSHARE_METRICS_ALLOWED_NETWORKS = []
    response = Client().get("/metrics")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    committee = Client()
    committee.force_login(UserFactory(role="committee", committee=place["committee"]))
    assert committee.get("/metrics").status_code == 404
    assert b"fairshare_" not in response.content + committee.get("/metrics").content


def test_a_listed_address_reads_without_login_through_the_client_address_rule(settings):
    import ipaddress

    settings.FAIRSHARE_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/24")]
    settings.TRUSTED_PROXY_HOPS = 1
    nginx = {"REMOTE_ADDR": "127.0.0.1"}
    assert scrape(Client(), HTTP_X_FORWARDED_FOR="10.0.0.7", **nginx)
    # A client-written leftmost entry is not the client address: refused.
    spoofed = Client().get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.7, 203.0.113.9", **nginx)
    assert spoofed.status_code == 302
    settings.TRUSTED_PROXY_HOPS = 0  # without the proxy hop, the peer (127.0.0.1) counts
    assert Client().get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.7", **nginx).status_code == 302


MULTIPROCESS_SCRIPT = """
import os
import django
django.setup()
from django.http import HttpResponse
from prometheus_client import generate_latest
from fairshare.operations import metrics
for status in (429, 429, 503, 200):
    pid = os.fork()
    if pid == 0:  # a gunicorn worker answering one request
        metrics.ResponseCounterMiddleware(lambda r: HttpResponse(status=status))(None)
        os._exit(0)
    os.waitpid(pid, 0)
metrics.DatabaseCollector._families = lambda self: iter(())
print(generate_latest(metrics.metrics_registry()).decode())
"""


def test_counters_are_summed_over_worker_processes(tmp_path):
    """Multiprocess mode (PROMETHEUS_MULTIPROC_DIR, as under fairshare serve): the
    answers counted in forked workers are all seen by a scrape in another process."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    env["DJANGO_SETTINGS_MODULE"] = "fairshare.settings"
    out = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert 'fairshare_http_responses_total{status="429"} 2.0' in out
    assert 'fairshare_http_responses_total{status="503"} 1.0' in out
    assert list(tmp_path.glob("counter_*.db"))
