"""Per-IP limit on failed logins across usernames (django-axes limits per username + IP).

A bot trying many usernames from one address is stopped after
FAIRSHARE_LOGIN_IP_FAILURE_LIMIT failures within the axes cool-off window. The count
comes from axes' own AccessAttempt rows, so it needs no cache and holds across
processes. (Rate limits of registration, SMS and lookups live in core/ratelimit.py.)
"""

from __future__ import annotations

from datetime import timedelta

from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone


def ip_failures_exceeded(request: HttpRequest) -> bool:
    limit = getattr(settings, "FAIRSHARE_LOGIN_IP_FAILURE_LIMIT", 30)
    ip = get_client_ip_address(request)
    if not ip or not limit:
        return False
    since = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    total = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return (total or 0) >= limit
