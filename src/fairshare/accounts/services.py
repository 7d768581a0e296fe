"""Writes for accounts: users of a role, API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import ApiToken, User
from fairshare.core.audit import audit_record
from fairshare.core.errors import ServiceError


class AuthFailed(ServiceError):
    status_code = 401
    code = "invalid_credentials"


class LockedOut(ServiceError):
    status_code = 429
    code = "locked_out"


def user_create(
    *, username: str, password: str, role: str, is_staff: bool = True, **scope: Any
) -> User:
    user = User(username=username, role=role, is_staff=is_staff, **scope)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def token_issue(*, request: HttpRequest, username: str, password: str, label: str = "") -> str:
    """Check the credentials (with django-axes lockout) and return a new raw token."""
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LockedOut(_("Too many failed attempts; try again in 15 minutes."))
    if user is None:
        raise AuthFailed(_("Wrong username or password."))
    raw = ApiToken.new_raw()
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw), label=label[:64])
        audit_record(actor=user, action="token.issue", obj=token)
    return raw


def token_revoke(*, token: ApiToken, actor: User) -> None:
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit_record(actor=actor, action="token.revoke", obj=token)
