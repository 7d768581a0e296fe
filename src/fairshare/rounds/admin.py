from django.contrib import admin

from fairshare.accounts.scoping import has_access
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

    def get_queryset(self, request):
        # Scoping (accounts): staff see only the rounds of their own district.
        qs = super().get_queryset(request)
        user = request.user
        if user.is_superuser:
            return qs
        sub = user.subdistrict
        district_id = user.district_id or (sub.district_id if sub else None)
        return qs.filter(district_id=district_id) if has_access(user) else qs.none()

    def has_module_permission(self, request) -> bool:
        user = request.user
        return has_access(user) and (
            user.is_superuser or getattr(user, "role", "") in ("district", "subdistrict")
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        user = request.user
        return has_access(user) and (user.is_superuser or getattr(user, "role", "") == "district")

    def has_add_permission(self, request) -> bool:
        return self.has_change_permission(request)
