from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from fairshare.core.models import AuditLog, OutboxMessage


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin[AuditLog]):
    list_display = ["at", "actor_username", "action", "object_type", "object_id", "committee"]
    list_filter = ["action"]
    search_fields = ["actor_username", "object_id", "note"]
    date_hierarchy = "at"

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
