"""Page logins and logouts of staff go into the audit log (failed attempts: django-axes)."""

from __future__ import annotations

from typing import Any, TypedDict

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from fairshare.accounts.models import User
from fairshare.core.audit import audit_record


class AuditScope(TypedDict):
    subdistrict_id: int | None
    committee_id: int | None
    pharmacy_id: int | None


def audit_scope(user: User) -> AuditScope:
    """The scope columns of an audit row about ``user`` itself."""
    committee = getattr(user, "committee", None)
    pharmacy = getattr(user, "pharmacy", None)
    subdistrict_id = getattr(user, "subdistrict_id", None) or (
        committee.subdistrict_id if committee else pharmacy.subdistrict_id if pharmacy else None
    )
    return {
        "subdistrict_id": subdistrict_id,
        "committee_id": getattr(user, "committee_id", None),
        "pharmacy_id": getattr(user, "pharmacy_id", None),
    }


@receiver(user_logged_in, dispatch_uid="fairshare_audit_login")
def _logged_in(
    sender: object, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is not None and user.pk:
        audit_record(actor=user, action="session.login", obj=user, **audit_scope(user))


@receiver(user_logged_out, dispatch_uid="fairshare_audit_logout")
def _logged_out(
    sender: object, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is not None and getattr(user, "pk", None):
        audit_record(actor=user, action="session.logout", obj=user, **audit_scope(user))
