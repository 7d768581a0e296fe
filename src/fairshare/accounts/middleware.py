"""End staff sessions that must not go on.

* ``AccessExpiryMiddleware``: the user's access has ended (expired helper, deactivated).
  It also holds back a user whose password is an unchanged one-time password
  (``User.password_change_required``): every page redirects to the change-password page
  (except that page, the logout and static files), every API call on the session answers
  403 ``password_change_required`` (except the token and password endpoints, which take
  their credentials in the body).
* ``SessionLimitMiddleware``: the session is older than ``FAIRSHARE_SESSION_MAX_SECONDS``
  (counted from login) or was idle longer than ``FAIRSHARE_SESSION_IDLE_SECONDS``
  (shared desk computers). Login time and last activity live in the session; the
  activity stamp is rewritten at most once per ``TOUCH_EVERY_SECONDS``, so a busy desk
  does not write its session on every request.

Both sit after AuthenticationMiddleware and only log the user out: the request then goes
on as anonymous, so pages guarded by ``login_required`` redirect to the login, API calls
authenticated by the session answer 401, and public pages are served as to anyone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.permissions import has_access

LOGIN_AT = "fairshare_login_at"
SEEN_AT = "fairshare_seen_at"
TOUCH_EVERY_SECONDS = 60


class AccessExpiryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not has_access(user):
            logout(request)
        elif user is not None and getattr(user, "password_change_required", False):
            held = _password_change_answer(request)
            if held is not None:
                return held
        return self.get_response(request)


_OPEN_API_PATHS = ("/api/v1/auth/token", "/api/v1/auth/password")


def _password_change_answer(request: HttpRequest) -> HttpResponse | None:
    """What a user who must change a one-time password gets instead of the page (None:
    the request goes on)."""
    path = request.path
    change = reverse("accounts:password_change")
    if path.startswith("/api/"):
        if path.rstrip("/") in _OPEN_API_PATHS:
            return None
        body = {
            "detail": str(_("Change your one-time password first.")),
            "code": "password_change_required",
        }
        return JsonResponse(body, status=403)
    static = str(getattr(settings, "STATIC_URL", "") or "/static/")
    if path in (change, reverse("accounts:logout")) or path.startswith((static, "/i18n/")):
        return None
    return HttpResponseRedirect(change)


def _now() -> float:
    return timezone.now().timestamp()


def session_stamp(request: HttpRequest) -> None:
    """Start the clocks of a session at login."""
    now = _now()
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


@receiver(user_logged_in, dispatch_uid="fairshare.accounts.session_stamp")
def _stamp_on_login(sender: object, request: HttpRequest | None, **kwargs: object) -> None:
    if request is not None and hasattr(request, "session"):
        session_stamp(request)


def session_over(login_at: float, seen_at: float, now: float) -> bool:
    """Whether a session logged in at ``login_at`` and last active at ``seen_at`` has ended."""
    return (
        now - login_at >= settings.FAIRSHARE_SESSION_MAX_SECONDS
        or now - seen_at >= settings.FAIRSHARE_SESSION_IDLE_SECONDS
    )


class SessionLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        session, now = request.session, _now()
        login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
        if not isinstance(login_at, float) or not isinstance(seen_at, float):
            session_stamp(request)  # a session from before these limits: its clocks start now
        elif session_over(login_at, seen_at, now):
            logout(request)
            if not request.path.startswith("/api/"):
                messages.info(request, _("Your session has ended. Please log in again."))
        elif now - seen_at >= TOUCH_EVERY_SECONDS:
            session[SEEN_AT] = now
