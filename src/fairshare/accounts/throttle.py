"""Login throttling: a lockout per account and address, a challenge per address.

Two rules, both keyed on the client address that core/clientip decides (the same
address as the rate limits; FAIRSHARE_TRUSTED_PROXY_HOPS):

1. **Lockout per (username, address)** (django-axes, settings ``AXES_*``):
   FAIRSHARE_LOGIN_FAILURE_LIMIT (5) wrong passwords for one username from one address
   lock that username from that address for the cool-off (15 minutes from the last
   counted failure; tries during the lockout do not extend it). The same username from
   another address, and every other username from the same address, still log in.
   The lockout page names the time to retry (``lockout_response``).

2. **Challenge per address, never a lock**: behind the production proxy all staff of
   a subdistrict share one address, so failures across usernames must not lock anyone
   out. Once an address has FAIRSHARE_LOGIN_IP_FAILURE_LIMIT (30) failures within the
   cool-off, the login page from that address also asks for the digits of a picture
   (a fresh single-use challenge on every page, its answer kept as a keyed hash in the
   server-side session). The password is only checked once the challenge is answered,
   so a bot spraying passwords over many usernames must solve a picture per guess,
   while a person with the right password passes on the first try. A wrong or missing
   answer is not a failed login and counts against no account. The token API has no
   picture to show: from such an address it answers 429 until the failures age out of
   the cool-off (the staff page keeps working), so it cannot be used to bypass the
   challenge.
"""

from __future__ import annotations

import base64
import io
import math
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from fairshare.core.clientip import client_ip_or_none

CHALLENGE_SESSION_KEY = "login_challenge"
CHALLENGE_DIGITS = "23456789"  # no 0/1, which read as O/l
CHALLENGE_LENGTH = 5
CHALLENGE_TTL_SECONDS = 600
_PASSED = "fairshare_login_challenge_passed"


def cool_off() -> timedelta:
    return timedelta(hours=float(settings.AXES_COOLOFF_TIME))


def address_failures(request: HttpRequest) -> int:
    """Failed logins from the request's client address (any usernames) in the cool-off."""
    ip = client_ip_or_none(request)
    if ip is None:
        return 0
    since = timezone.now() - cool_off()
    total = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return int(total or 0)


def challenge_required(request: HttpRequest) -> bool:
    limit = int(getattr(settings, "FAIRSHARE_LOGIN_IP_FAILURE_LIMIT", 30))
    return bool(limit) and address_failures(request) >= limit


def ip_failures_exceeded(request: HttpRequest) -> bool:
    """True when the address needs a challenge and this request has not answered one.

    The login form answers it (``challenge_check``); the token API never does.
    """
    return not getattr(request, _PASSED, False) and challenge_required(request)


def _answer_hash(answer: str) -> str:
    return salted_hmac("fairshare.accounts.throttle.challenge", answer.strip()).hexdigest()


def new_answer() -> str:
    return "".join(secrets.choice(CHALLENGE_DIGITS) for _ in range(CHALLENGE_LENGTH))


def challenge_new(request: HttpRequest) -> str:
    """Issue a fresh challenge for the request's session; its picture as a data: URL."""
    answer = new_answer()
    request.session[CHALLENGE_SESSION_KEY] = {
        "hash": _answer_hash(answer),
        "expires": time.time() + CHALLENGE_TTL_SECONDS,
    }
    png = _render_digits(answer)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def challenge_check(request: HttpRequest, answer: str) -> bool:
    """Check (and use up) the session's challenge; remember a pass on the request."""
    stored = request.session.pop(CHALLENGE_SESSION_KEY, None)
    ok = (
        isinstance(stored, dict)
        and float(stored.get("expires", 0)) > time.time()
        and bool(answer)
        and constant_time_compare(str(stored.get("hash", "")), _answer_hash(answer))
    )
    if ok:
        setattr(request, _PASSED, True)
    return ok


def _render_digits(text: str) -> bytes:
    """A small PNG of the digits, jittered and crossed by noise lines."""
    from PIL import Image, ImageDraw, ImageFont

    rng = secrets.SystemRandom()
    width, height = 36 * len(text) + 24, 60
    image = Image.new("RGB", (width, height), (246, 246, 240))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=38)
    for index, char in enumerate(text):
        glyph = Image.new("L", (44, 56), 0)
        ImageDraw.Draw(glyph).text((6, 2), char, font=font, fill=255)
        glyph = glyph.rotate(rng.uniform(-28, 28), resample=Image.Resampling.BICUBIC)
        colour = tuple(rng.randint(10, 110) for _ in range(3))
        x, y = 12 + index * 36 + rng.randint(-4, 4), rng.randint(0, 6)
        image.paste(Image.new("RGB", glyph.size, colour), (x, y), glyph)
    for _ in range(6):
        points = [(rng.randint(0, width), rng.randint(0, height)) for _ in range(2)]
        draw.line(points, fill=tuple(rng.randint(90, 200) for _ in range(3)), width=2)
    for _ in range(width * height // 40):
        draw.point((rng.randint(0, width - 1), rng.randint(0, height - 1)), fill=(120, 120, 120))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def lockout_ends_at(request: HttpRequest, credentials: dict[str, Any] | None) -> datetime:
    """When the (username, address) lockout of this request ends."""
    username = (credentials or {}).get(getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"))
    ip = getattr(request, "axes_ip_address", None) or client_ip_or_none(request)
    last = (
        AccessAttempt.objects.filter(
            username=username, ip_address=ip, attempt_time__gte=timezone.now() - cool_off()
        )
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    return (last or timezone.now()) + cool_off()


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the lockout answer, saying when to retry (Retry-After too).

    API paths keep their own JSON 429 (the token endpoint raises LockedOut); pages get
    accounts/locked.html in the user's language.
    """
    ends = lockout_ends_at(request, credentials)
    seconds = max(1, math.ceil((ends - timezone.now()).total_seconds()))
    if request.path.startswith("/api/") and original_response is not None:
        response = original_response
    else:
        context = {"retry_at": timezone.localtime(ends), "minutes": math.ceil(seconds / 60)}
        response = render(request, "accounts/locked.html", context, status=429)
    response.status_code = 429
    response["Retry-After"] = str(seconds)
    return response
