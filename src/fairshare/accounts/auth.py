"""API authentication: bearer tokens from POST /api/v1/auth/token."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from fairshare.accounts.models import ApiToken, User
from fairshare.accounts.permissions import has_access
from fairshare.accounts.requests import BearerRequest
from fairshare.community.models import Pharmacy
from fairshare.core.fastsql import Join, select_joined
from fairshare.core.locking import write_transaction

_TOKEN_JOINS = (
    Join(User, field="user"),
    Join(Pharmacy, field="pharmacy", parent=1, outer=True),  # None for other roles
)


def _token_lookup(token_hash: str) -> ApiToken | None:
    """The live token with its user and the user's pharmacy in one statement without ORM
    compilation, its text built once per process (every terminal call authenticates;
    core/fastsql.py)."""
    rows = select_joined(
        ApiToken,
        _TOKEN_JOINS,
        "{ApiToken}.token_hash = %s AND {ApiToken}.revoked_at IS NULL",
        [token_hash],
    )
    return rows[0].models[0] if rows else None


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token or len(token) > 200:
            return None
        row = _token_lookup(ApiToken.hash(token))
        if row is None or not has_access(row.user):
            return None
        now = timezone.now()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            # In the writer queue like every write (an autocommit UPDATE on SQLite would
            # poll for the lock in SQLite's busy handler, sleeping up to 100 ms at a time).
            with write_transaction():
                ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        cast(BearerRequest, request).api_token = row
        return row.user


bearer = BearerAuth()


def optional_bearer(request: HttpRequest) -> User | None:
    """The staff user of the request's bearer token on endpoints open to the public.

    No Authorization header: None (an anonymous caller). A header that is sent but does
    not carry a live token (malformed, unknown, revoked, or its user's access ended):
    401, so a client with a broken token learns it instead of getting the public answer.
    """
    if not request.headers.get("Authorization"):
        return None
    user = bearer(request)
    if user is None:
        raise AuthenticationError()
    return user
