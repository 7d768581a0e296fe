"""The request type of endpoints behind authentication, for type checkers."""

from __future__ import annotations

from django.http import HttpRequest

from fairshare.accounts.models import ApiToken, User


class StaffRequest(HttpRequest):
    """A request on a route that requires a bearer token or a staff session: ``user`` is
    the signed-in staff member (set by ``accounts.auth.bearer`` or the session), never
    anonymous. At run time it is a plain ``HttpRequest``; the annotation only narrows
    ``user`` for the type checker."""

    user: User


class BearerRequest(StaffRequest):
    """A request authenticated by ``accounts.auth.bearer``: ``api_token`` is its token."""

    api_token: ApiToken
