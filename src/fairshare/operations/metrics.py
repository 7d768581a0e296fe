"""``/metrics``: what operators watch during a rush, in Prometheus text format.

Two kinds of figures (docs/deploy.md, "Metrics"):

* **Gauges read from the database at scrape time**: registrations by round and status,
  vouchers by round and status, redemptions by round and channel, outbox messages by
  status, the due backlog and the age of its oldest message. Every gunicorn worker
  answers the same (the database is the one truth), so no per-process state is needed.
  A scrape during a database outage is itself a 503 (the session is in the database);
  the counters below keep counting and the next scrape shows what happened meanwhile.
* **Counters of the 429 and 503 answers**, counted by ``ResponseCounterMiddleware``
  (outermost, so it also sees the outage 503 of ``core.dbguard``). A 503 must be
  counted exactly when the database or Redis is down, so these counters live in
  neither: prometheus-client's multiprocess mode keeps them in memory-mapped files
  under ``PROMETHEUS_MULTIPROC_DIR`` and sums the workers' files at scrape time
  (``fairshare serve`` sets it, by default to ``<data folder>/metrics``, empties it at
  start and marks exited workers dead). Without it (tests, runserver, management
  commands) they are per-process.

Access: a district or subdistrict login, or a client address (``core.clientip``, the
one client-address rule) listed in ``FAIRSHARE_METRICS_ALLOWED_IPS``. Anonymous
callers from other addresses are sent to the login page, as on every staff page;
other staff get 404.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from fairshare.accounts.permissions import is_area_staff
from fairshare.allocation.models import Voucher
from fairshare.core.clientip import client_ip
from fairshare.core.models import OutboxMessage
from fairshare.pharmacy.models import Redemption
from fairshare.registration.models import Registration

COUNTED_STATUSES = (429, 503)
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # the counters' files go there
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
RESPONSES = Counter(
    "fairshare_http_responses",
    "Answers with status 429 (rate limited) or 503 (busy or a dependency down)",
    ["status"],
    registry=None,  # collected per scrape (see metrics_registry)
)
for _status in COUNTED_STATUSES:
    RESPONSES.labels(status=str(_status))  # present as 0 before the first one


class ResponseCounterMiddleware:
    """Count 429 and 503 answers (first in MIDDLEWARE: it sees every answer)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in COUNTED_STATUSES:
            RESPONSES.labels(status=str(response.status_code)).inc()
        return response


def _grouped(name: str, doc: str, labels: list[str], rows) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for *values, count in rows:
        family.add_metric([str(v) for v in values], count)
    return family


class DatabaseCollector(Collector):
    """The gauges, read from the database at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families()

    def _families(self) -> Iterator[GaugeMetricFamily]:
        def by(model, *fields: str):
            return model.objects.values_list(*fields).annotate(n=Count("pk")).order_by(*fields)

        yield _grouped(
            "fairshare_registrations",
            "Registrations by round and status",
            ["round", "status"],
            by(Registration, "round_id", "status"),
        )
        yield _grouped(
            "fairshare_vouchers",
            "Vouchers by round and status",
            ["round", "status"],
            by(Voucher, "round_id", "status"),
        )
        yield _grouped(
            "fairshare_redemptions",
            "Redemptions (vouchers bought) by round and channel",
            ["round", "channel"],
            by(Redemption, "voucher__round_id", "channel"),
        )
        yield _grouped(
            "fairshare_outbox_messages",
            "Outbox messages by status",
            ["status"],
            by(OutboxMessage, "status"),
        )
        yield from _outbox_backlog()


def _outbox_backlog() -> Iterator[GaugeMetricFamily]:
    now = timezone.now()
    due = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.PENDING, available_at__lte=now
    ).aggregate(n=Count("pk"), oldest=Min("available_at"))
    yield GaugeMetricFamily(
        "fairshare_outbox_due", "Pending outbox messages due now (the backlog)", value=due["n"]
    )
    age = (now - due["oldest"]).total_seconds() if due["oldest"] is not None else 0.0
    yield GaugeMetricFamily(
        "fairshare_outbox_oldest_due_seconds",
        "How long the oldest due outbox message has waited (0 when none is due)",
        value=max(0.0, age),
    )


def metrics_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(RESPONSES)
    registry.register(DatabaseCollector())
    return registry


def _listed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.FAIRSHARE_METRICS_ALLOWED_NETWORKS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not (_listed(client_ip(request)) or is_area_staff(request.user)):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    body = generate_latest(metrics_registry())
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
