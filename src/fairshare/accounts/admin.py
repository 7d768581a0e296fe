from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from fairshare.accounts import admin_scoping  # noqa: F401  (registers the scoped admins)
from fairshare.accounts.models import ApiToken, CommitteeAssignment, User
from fairshare.core.forms import TextRuleAdminMixin


@admin.register(User)
class UserAdmin(TextRuleAdminMixin, BaseUserAdmin):
    list_display = [
        "username",
        "role",
        "subdistrict",
        "committee",
        "pharmacy",
        "is_active",
        "access_expires_at",
    ]
    list_filter = ["role", "is_active"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            _("Role and scope"),
            {
                "fields": (
                    "role",
                    "district",
                    "subdistrict",
                    "committee",
                    "pharmacy",
                    "access_expires_at",
                )
            },
        ),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "label", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "token_hash", "created_at", "last_used_at"]


@admin.register(CommitteeAssignment)
class CommitteeAssignmentAdmin(admin.ModelAdmin):
    """Superusers only; area staff use the helpers page, which audits every change."""

    list_display = ["user", "committee", "expires_at", "assigned_by", "created_at"]
    list_filter = ["committee"]
    readonly_fields = ["assigned_by", "created_at"]
