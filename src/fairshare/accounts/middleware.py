"""End the session of a user whose access has ended (expired helper, deactivated).

Placed after AuthenticationMiddleware, so every page (also ones guarded only by
``login_required``) treats such a user as logged out and redirects to the login.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from fairshare.accounts.permissions import has_access


class AccessExpiryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not has_access(user):
            logout(request)
        return self.get_response(request)
