from django.contrib import admin

from fairshare.rounds.models import Round


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "district",
        "status",
        "policy",
        "registration_opens_at",
        "registration_closes_at",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["status", "policy"]

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or request.user.role in ("district", "subdistrict")

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or request.user.role == "district"

    def has_add_permission(self, request) -> bool:
        return self.has_change_permission(request)
