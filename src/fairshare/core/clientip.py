"""The one place that decides a request's client address (rate limits, login lockout).

``FAIRSHARE_TRUSTED_PROXY_HOPS`` (setting ``TRUSTED_PROXY_HOPS``, default 0) is the
number of reverse proxies in front of the service that each append the address they
saw to ``X-Forwarded-For`` (nginx: ``$proxy_add_x_forwarded_for``).

The chain is ``X-Forwarded-For`` split on commas, followed by ``REMOTE_ADDR``; its
rightmost entry is the peer of this process. Every trusted proxy writes one entry, so
with N hops the client is the entry N places from the right: the rightmost address
that no trusted proxy added. Entries further left were sent by the client (or by
whatever it connected through) and are never used, however they are spelled.

* N = 0: ``REMOTE_ADDR``; ``X-Forwarded-For`` is ignored.
* A chain shorter than N + 1 (the request skipped an outer proxy and reached an inner
  one directly): the leftmost entry is then still one a trusted proxy wrote, and it is
  the answer.
* An entry within the trusted part that is not an IP address (``unknown``, garbage,
  an empty item): walking from the right stops there and the last valid address to
  its right is the answer. Such requests are thus counted under a proxy's address,
  which can only make a limit stricter, never let a caller pick a fresh address.
* ``REMOTE_ADDR`` missing or not an address (only in tests or odd servers):
  ``"unknown"``.

Addresses are normalised (``ipaddress``), so ``::ffff:1.2.3.4`` spellings or a
``:port`` suffix (``1.2.3.4:5678``, ``[::1]:80``) do not yield distinct keys.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "unknown"


def parse_address(raw: str) -> str | None:
    """A normalised IP address from one chain entry, or None when it is not one."""
    text = raw.strip().strip('"')
    if text.startswith("["):  # [IPv6] or [IPv6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def trusted_proxy_hops() -> int:
    return max(0, int(getattr(settings, "TRUSTED_PROXY_HOPS", 0)))


def client_ip_from(remote_addr: str, forwarded_for: str, hops: int) -> str:
    """The client address of a chain (see the module docstring for the rule)."""
    peer = parse_address(remote_addr or "")
    if peer is None:
        return UNKNOWN
    if hops <= 0 or not forwarded_for:
        return peer
    entries = forwarded_for.split(",")
    answer = peer
    for raw in reversed(entries[-hops:]):
        address = parse_address(raw)
        if address is None:
            break
        answer = address
    return answer


def client_ip(request: HttpRequest) -> str:
    """The client address of a request, as the trusted proxies report it."""
    return client_ip_from(
        str(request.META.get("REMOTE_ADDR", "") or ""),
        str(request.META.get("HTTP_X_FORWARDED_FOR", "") or ""),
        trusted_proxy_hops(),
    )


def client_ip_or_none(request: HttpRequest) -> str | None:
    """The same address for django-axes (AXES_CLIENT_IP_CALLABLE); None when unknown,
    as its address column (an ``inet`` on PostgreSQL) takes no placeholder."""
    address = client_ip(request)
    return None if address == UNKNOWN else address
