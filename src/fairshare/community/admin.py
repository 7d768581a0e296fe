"""The plain admin of community models; the role-scoped ones (subdistricts, pharmacies,
committees, buildings, households) are registered by the accounts app, which knows the
staff roles (fairshare/accounts/admin_scoping.py)."""

from django.contrib import admin

from fairshare.community.models import District


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
