"""API authentication: bearer tokens from POST /api/v1/auth/token."""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from fairshare.accounts.models import ApiToken, User
from fairshare.accounts.permissions import has_access
from fairshare.community.models import Pharmacy
from fairshare.core.fastsql import model_columns, model_width, row_to_model
from fairshare.core.locking import write_transaction


@cache
def _token_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    tok, usr, pha = ApiToken._meta.db_table, User._meta.db_table, Pharmacy._meta.db_table
    return (
        f"SELECT {model_columns(ApiToken)}, {model_columns(User)}, {model_columns(Pharmacy)} "  # noqa: S608
        f"FROM {qn(tok)} JOIN {qn(usr)} ON {qn(usr)}.{qn('id')} = {qn(tok)}.{qn('user_id')} "
        f"LEFT JOIN {qn(pha)} ON {qn(pha)}.{qn('id')} = {qn(usr)}.{qn('pharmacy_id')} "
        f"WHERE {qn(tok)}.{qn('token_hash')} = %s AND {qn(tok)}.{qn('revoked_at')} IS NULL"
    )


def _token_lookup(token_hash: str) -> ApiToken | None:
    """The live token with its user and the user's pharmacy (None for other roles) in one
    statement without ORM compilation, its text built once per process (every terminal
    call authenticates; core/fastsql.py)."""
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(connection.vendor), [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    a, b = model_width(ApiToken), model_width(ApiToken) + model_width(User)
    token = row_to_model(ApiToken, row[:a])
    user = row_to_model(User, row[a:b])
    if user.pharmacy_id is not None:
        User.pharmacy.field.set_cached_value(user, row_to_model(Pharmacy, row[b:]))
    ApiToken.user.field.set_cached_value(token, user)
    return token


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
        request.api_token = row
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
