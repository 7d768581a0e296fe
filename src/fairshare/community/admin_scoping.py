"""Admin screens inherit the role scoping of fairshare.accounts.scoping."""

from __future__ import annotations

from django.contrib import admin

from fairshare.accounts.scoping import has_access, scope_q


class ScopedAdmin(admin.ModelAdmin):
    """Staff see (and, where ``editable_by`` allows, change) only rows of their scope."""

    committee_path = "committee"
    pharmacy_path: str | None = None
    viewable_by: tuple[str, ...] = ("district", "subdistrict", "committee")
    editable_by: tuple[str, ...] = ()

    def _role_ok(self, request, roles) -> bool:
        user = request.user
        return has_access(user) and (user.is_superuser or user.role in roles)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(
            scope_q(request.user, self.committee_path, pharmacy_path=self.pharmacy_path)
        )

    def has_module_permission(self, request) -> bool:
        return self._role_ok(request, self.viewable_by)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._role_ok(request, self.viewable_by)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._role_ok(request, self.editable_by)

    def has_add_permission(self, request) -> bool:
        return self._role_ok(request, self.editable_by)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
