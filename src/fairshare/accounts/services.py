"""Writes for accounts: users of a role, API tokens, helpers sent down to committees,
one-time passwords and the staff accounts that area staff manage."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, TypedDict

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import ApiToken, CommitteeAssignment, User
from fairshare.accounts.permissions import Viewer, has_access, is_area_staff
from fairshare.accounts.scoping import committee_in_scope
from fairshare.accounts.selectors import staff_account_list
from fairshare.accounts.throttle import ip_failures_exceeded
from fairshare.community.models import Committee
from fairshare.core.audit import audit_record
from fairshare.core.errors import FieldErrors, Forbidden, NotFound, ServiceError
from fairshare.core.locking import write_transaction


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


class PasswordChangeRequired(ServiceError):
    status_code = 403
    code = "password_change_required"


# One-time passwords: 12 characters without the ones that read alike (0/O/o, 1/l/I), about
# 69 bits from ``secrets``; given to a person once, on paper or by phone.
ONE_TIME_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
ONE_TIME_LENGTH = 12


def one_time_password_new() -> str:
    return "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(ONE_TIME_LENGTH))


def one_time_password_set(*, user: User) -> str:
    """Give ``user`` a new one-time password (stored hashed, like any password) that must be
    changed at the next login; return its clear text, to be shown once and never stored.
    Changing the password ends the user's sessions (Django's session hash)."""
    raw = one_time_password_new()
    user.set_password(raw)
    user.password_change_required = True
    user.save(update_fields=["password", "password_change_required"])
    return raw


def _authenticate(*, request: HttpRequest, username: str, password: str) -> User:
    """The user of these credentials, through django-axes (a wrong password is a counted
    failed login; the lockout and the address challenge apply).

    Inactive users and users whose access has expired get the same 401 as a wrong
    password, so the answer does not reveal which accounts exist.
    """
    if ip_failures_exceeded(request):
        raise LockedOut(_("Too many failed attempts; try again in 15 minutes."))
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LockedOut(_("Too many failed attempts; try again in 15 minutes."))
    if user is None or not has_access(user):
        raise AuthFailed(_("Wrong username or password."))
    return user


def token_issue(*, request: HttpRequest, username: str, password: str, label: str = "") -> str:
    """Check the credentials (with django-axes lockout) and return a new raw token.

    An unchanged one-time password is refused (403 ``password_change_required``): it must
    be changed first (``password_change``, on the page or ``POST /api/v1/auth/password``).
    """
    user = _authenticate(request=request, username=username, password=password)
    if user.password_change_required:
        raise PasswordChangeRequired(
            _("This is a one-time password: change it before using the account.")
        )
    raw = ApiToken.new_raw()
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw), label=label[:64])
        audit_record(actor=user, action="token.issue", obj=token, after={"label": token.label})
    return raw


def password_change(*, user: User, new_password: str, field: str = "new_password") -> None:
    """Set the user's own new password: Django's password validators apply and it must
    differ from the current one (per-field errors under ``field``). Clears the one-time
    flag; audited without any password."""
    errors = FieldErrors()
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add(field, message)
    if user.check_password(new_password):
        errors.add(field, _("The new password must differ from the current one."))
    if errors:
        raise errors
    with write_transaction():
        was_one_time = user.password_change_required
        user.set_password(new_password)
        user.password_change_required = False
        user.save(update_fields=["password", "password_change_required"])
        audit_record(
            actor=user,
            action="password.change",
            obj=user,
            after={"one_time_replaced": was_one_time},
            **_audit_scope(user),
        )


def password_change_with_credentials(
    *, request: HttpRequest, username: str, password: str, new_password: str
) -> None:
    """``POST /api/v1/auth/password``: the credentials are checked as for a token (a wrong
    password counts as a failed login), then ``password_change``."""
    user = _authenticate(request=request, username=username, password=password)
    password_change(user=user, new_password=new_password)


def token_revoke(*, token: ApiToken, actor: User) -> None:
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit_record(actor=actor, action="token.revoke", obj=token)


def token_revoke_by_id(*, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens; another user's token is 'not found'."""
    token = ApiToken.objects.filter(pk=token_id, user=actor).first()
    if token is None:
        raise NotFound(_("Unknown token."), code="unknown_token")
    if token.revoked_at is None:
        token_revoke(token=token, actor=actor)
        token.refresh_from_db()
    return token


def require_area_staff(actor: Viewer) -> None:
    if not is_area_staff(actor):
        raise Forbidden(_("Only subdistrict and district staff can manage helpers."))


def _check_expiry(expires_at: datetime | None, errors: FieldErrors) -> None:
    if expires_at is None:
        errors.add("expires_at", _("This field is required."))
    elif expires_at <= timezone.now():
        errors.add("expires_at", _("The expiry must be in the future."))


def helper_create(
    *,
    actor: User,
    username: str,
    password: str,
    committee: Committee,
    expires_at: datetime,
) -> User:
    """Create a helper account (committee staff with an expiry) assigned to ``committee``."""
    require_area_staff(actor)
    if not committee_in_scope(actor, committee.pk):
        raise NotFound(_("Unknown committee."), code="unknown_committee")
    errors = FieldErrors()
    username = (username or "").strip()
    if not username:
        errors.add("username", _("This field is required."))
    elif User.objects.filter(username__iexact=username).exists():
        errors.add("username", _("This username is taken."))
    _check_expiry(expires_at, errors)
    try:
        validate_password(password or "")
    except ValidationError as exc:
        for message in exc.messages:
            errors.add("password", message)
    if errors:
        raise errors
    with write_transaction():
        user = User(
            username=username,
            role=User.Role.COMMITTEE,
            committee=committee,
            access_expires_at=expires_at,
            is_staff=True,
        )
        user.set_password(password)
        user.save()
        assignment = CommitteeAssignment.objects.create(
            user=user, committee=committee, expires_at=expires_at, assigned_by=actor
        )
        audit_record(
            actor=actor,
            action="helper.create",
            obj=user,
            after={
                "username": user.username,
                "committee": committee.code,
                "expires_at": expires_at.isoformat(),
                "assignment": assignment.pk,
            },
            subdistrict_id=committee.subdistrict_id,
            committee_id=committee.pk,
        )
    return user


def helper_assign(
    *, actor: User, user: User | None, committee: Committee, expires_at: datetime
) -> CommitteeAssignment:
    """Assign a helper to one more committee of the actor's area (or change the expiry).

    The helper must be committee staff whose home committee is in the actor's area;
    the helper's account expiry is extended to cover the assignment.
    """
    require_area_staff(actor)
    if not committee_in_scope(actor, committee.pk):
        raise NotFound(_("Unknown committee."), code="unknown_committee")
    if (
        user is None
        or user.role != User.Role.COMMITTEE
        or user.committee_id is None
        or not committee_in_scope(actor, user.committee_id)
    ):
        raise NotFound(_("Unknown helper."), code="unknown_helper")
    errors = FieldErrors()
    _check_expiry(expires_at, errors)
    if errors:
        raise errors
    with write_transaction():
        existing = CommitteeAssignment.objects.filter(user=user, committee=committee).first()
        before = {"expires_at": existing.expires_at.isoformat()} if existing else None
        if existing:
            existing.expires_at = expires_at
            existing.assigned_by = actor
            existing.save(update_fields=["expires_at", "assigned_by"])
            assignment = existing
        else:
            assignment = CommitteeAssignment.objects.create(
                user=user, committee=committee, expires_at=expires_at, assigned_by=actor
            )
        if user.access_expires_at is not None and user.access_expires_at < expires_at:
            User.objects.filter(pk=user.pk).update(access_expires_at=expires_at)
        audit_record(
            actor=actor,
            action="helper.assign",
            obj=assignment,
            before=before,
            after={
                "helper": user.username,
                "committee": committee.code,
                "expires_at": expires_at.isoformat(),
            },
            subdistrict_id=committee.subdistrict_id,
            committee_id=committee.pk,
        )
    return assignment


class _AuditScope(TypedDict):
    subdistrict_id: int | None
    committee_id: int | None
    pharmacy_id: int | None


def _audit_scope(user: User) -> _AuditScope:
    """Where an account belongs, for the audit log's scoping."""
    subdistrict_id = user.subdistrict_id
    if user.committee is not None:
        subdistrict_id = user.committee.subdistrict_id
    elif user.pharmacy is not None:
        subdistrict_id = user.pharmacy.subdistrict_id
    return {
        "subdistrict_id": subdistrict_id,
        "committee_id": user.committee_id,
        "pharmacy_id": user.pharmacy_id,
    }


def _managed_account(actor: User, user_id: int) -> User:
    """A staff account of the actor's area (``staff_account_list``); else 'not found'."""
    if not is_area_staff(actor):
        raise Forbidden(_("Only subdistrict and district staff can manage staff accounts."))
    user = staff_account_list(user=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("Unknown staff account."), code="unknown_account")
    return user


def staff_password_reset(*, actor: User, user_id: int) -> tuple[User, str]:
    """A new one-time password for an account of the actor's area: the account must change
    it at its next login; its sessions end and its API tokens are revoked. Returns the
    account and the clear text (to show once)."""
    user = _managed_account(actor, user_id)
    with write_transaction():
        raw = one_time_password_set(user=user)
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="staff.password_reset",
            obj=user,
            after={"username": user.username, "tokens_revoked": revoked},
            **_audit_scope(user),
        )
    return user, raw


def staff_set_active(*, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (it can no longer log in; its sessions end, its API tokens are revoked)
    or reactivate an account of the actor's area."""
    user = _managed_account(actor, user_id)
    if user.is_active == active:
        return user
    with write_transaction():
        user.is_active = active
        user.save(update_fields=["is_active"])
        if not active:
            ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
        audit_record(
            actor=actor,
            action="staff.reactivate" if active else "staff.deactivate",
            obj=user,
            before={"is_active": not active},
            after={"is_active": active},
            **_audit_scope(user),
        )
    return user
