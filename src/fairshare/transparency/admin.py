"""Admin for official notices: subdistrict staff publish through the audited service."""

from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.db.models import QuerySet

from fairshare.accounts.permissions import is_area_staff
from fairshare.accounts.scoping import area_q
from fairshare.community.models import Subdistrict
from fairshare.core.forms import TextRuleAdminMixin
from fairshare.transparency.models import Notice
from fairshare.transparency.services import notice_publish


@admin.register(Notice)
class NoticeAdmin(TextRuleAdminMixin, admin.ModelAdmin):
    list_display = ("title", "subdistrict", "published_at", "withdrawn_at")
    list_filter = (("subdistrict", admin.RelatedOnlyFieldListFilter),)
    fields = ("subdistrict", "title", "body")
    readonly_fields = ()

    def _ok(self, request) -> bool:
        return is_area_staff(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(area_q(request.user, "subdistrict"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "subdistrict" and field is not None:
            field.queryset = cast("QuerySet[Subdistrict]", field.queryset).filter(
                area_q(request.user, "")
            )
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
