from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from fairshare.core import audit_display
from fairshare.core.models import AuditLog, OutboxMessage


def _pairs(entry: AuditLog, which: str) -> SafeString:
    pairs = audit_display.audit_pairs(entry, which)
    return SafeString(render_to_string("core/_audit_pairs.html", {"pairs": pairs}))


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin[AuditLog]):
    """Read-only; the action as a label, before/after as label: value lines, local
    times and the actor by name (``core/audit_display.py``); raw values in the row."""

    list_display = ["when", "by", "what", "object_type", "object_id", "committee"]
    list_filter = ["action"]
    search_fields = ["actor_username", "object_id", "note"]
    date_hierarchy = "at"
    list_select_related = ["actor", "committee"]
    fields = (
        *("when", "by", "what", "object_type", "object_id", "committee"),
        *("changes_before", "changes_after", "note", "redacted_at"),
    )
    readonly_fields = fields

    @admin.display(description=_("time"), ordering="at")
    def when(self, entry: AuditLog) -> str:
        return audit_display.local_time(entry.at)

    @admin.display(description=_("actor"), ordering="actor_username")
    def by(self, entry: AuditLog) -> str:
        return audit_display.actor_name(entry)

    @admin.display(description=_("action"), ordering="action")
    def what(self, entry: AuditLog) -> str:
        return audit_display.action_label(entry.action)

    @admin.display(description=_("before"))
    def changes_before(self, entry: AuditLog) -> SafeString:
        return _pairs(entry, "before")

    @admin.display(description=_("after"))
    def changes_after(self, entry: AuditLog) -> SafeString:
        return _pairs(entry, "after")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    list_display = ["id", "kind", "status", "attempts", "available_at", "sent_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
