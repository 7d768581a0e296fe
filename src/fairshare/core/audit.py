"""Append-only audit log of staff actions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import models

from fairshare.core.models import AuditLog


def audit_entry(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    subdistrict_id: int | None = None,
    committee_id: int | None = None,
    pharmacy_id: int | None = None,
    note: str = "",
) -> AuditLog:
    """The unsaved audit row of an action (hot paths insert it with core.fastsql)."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditLog(
        actor_id=actor.pk if actor is not None and is_user else None,
        actor_username=getattr(actor, "username", "") if is_user else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        before=before,
        after=after,
        subdistrict_id=subdistrict_id,
        committee_id=committee_id,
        pharmacy_id=pharmacy_id,
        note=note,
    )


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    subdistrict_id: int | None = None,
    committee_id: int | None = None,
    pharmacy_id: int | None = None,
    note: str = "",
) -> AuditLog:
    """Insert one audit row. Call it inside the transaction of the action it records."""
    entry = audit_entry(
        actor=actor,
        action=action,
        obj=obj,
        before=before,
        after=after,
        subdistrict_id=subdistrict_id,
        committee_id=committee_id,
        pharmacy_id=pharmacy_id,
        note=note,
    )
    entry.save(force_insert=True)
    return entry
