"""The audit log as people read it, for templates (``core/audit_display.py``)."""

from __future__ import annotations

from django import template

from fairshare.core import audit_display
from fairshare.core.models import AuditLog

register = template.Library()


@register.filter
def audit_action(entry: AuditLog) -> str:
    return audit_display.action_label(entry.action)


@register.filter
def audit_actor(entry: AuditLog) -> str:
    return audit_display.actor_name(entry)


@register.filter
def audit_time(entry: AuditLog) -> str:
    return audit_display.local_time(entry.at)


@register.filter
def audit_pairs(entry: AuditLog, which: str) -> list[tuple[str, str]]:
    return audit_display.audit_pairs(entry, which)
