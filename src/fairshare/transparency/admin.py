"""Admin for official notices: subdistrict staff publish through the audited service."""

from __future__ import annotations

from django.contrib import admin

from fairshare.accounts.scoping import has_access
from fairshare.transparency.models import Notice
from fairshare.transparency.services import notice_publish


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("title", "subdistrict", "published_at", "withdrawn_at")
    list_filter = ("subdistrict",)
    fields = ("subdistrict", "title", "body")
    readonly_fields = ()

    def _ok(self, request) -> bool:
        user = request.user
        return has_access(user) and (user.is_superuser or user.role in ("district", "subdistrict"))

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        user = request.user
        if user.is_superuser:
            return qs
        if user.role == "district":
            return qs.filter(subdistrict__district_id=user.district_id)
        if user.role == "subdistrict":
            return qs.filter(subdistrict_id=user.subdistrict_id)
        return qs.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "subdistrict":
            user = request.user
            if user.role == "subdistrict" and not user.is_superuser:
                field.queryset = field.queryset.filter(pk=user.subdistrict_id)
            elif user.role == "district" and not user.is_superuser:
                field.queryset = field.queryset.filter(district_id=user.district_id)
        return field

    def has_module_permission(self, request) -> bool:
        return self._ok(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._ok(request)

    def has_add_permission(self, request) -> bool:
        return self._ok(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # published notices are withdrawn and re-published, not edited

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        saved = notice_publish(
            actor=request.user, subdistrict=obj.subdistrict, title=obj.title, body=obj.body
        )
        obj.pk = saved.pk
        obj.published_at = saved.published_at
