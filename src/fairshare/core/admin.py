from django.contrib import admin

from fairshare.core.models import AuditLog, OutboxMessage


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_username", "action", "object_type", "object_id", "committee"]
    list_filter = ["action"]
    search_fields = ["actor_username", "object_id", "note"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "attempts", "available_at", "sent_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
