from django.contrib import admin

from fairshare.community.admin_scoping import ScopedAdmin
from fairshare.community.models import (
    Building,
    Committee,
    District,
    Household,
    Member,
    Pharmacy,
    Subdistrict,
)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(Subdistrict)
class SubdistrictAdmin(ScopedAdmin):
    list_display = ["code", "name", "district"]
    committee_path = "committees"
    viewable_by = ("district", "subdistrict")

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()


@admin.register(Pharmacy)
class PharmacyAdmin(ScopedAdmin):
    list_display = ["code", "name", "address", "opens_at", "closes_at", "customers_per_slot"]
    committee_path = "committees"
    pharmacy_path = ""
    viewable_by = ("district", "subdistrict", "committee", "pharmacy")
    editable_by = ("district", "subdistrict")

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()


@admin.register(Committee)
class CommitteeAdmin(ScopedAdmin):
    list_display = ["code", "name", "subdistrict", "pharmacy"]
    list_filter = ["subdistrict"]
    search_fields = ["code", "name"]
    committee_path = ""
    editable_by = ("district", "subdistrict")


@admin.register(Building)
class BuildingAdmin(ScopedAdmin):
    list_display = ["committee", "compound", "label", "floors"]
    list_filter = ["committee"]
    search_fields = ["label", "compound"]
    editable_by = ("district", "subdistrict", "committee")


class MemberInline(admin.TabularInline):
    model = Member
    fields = ["name", "lives_alone", "mobility_impaired", "elderly"]
    extra = 0


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ["__str__", "committee", "building", "room"]
    list_filter = ["committee"]
    search_fields = ["room", "building__label", "members__name"]
    list_select_related = ["building", "committee"]
    raw_id_fields = ["building"]
    inlines = [MemberInline]
    editable_by = ("district", "subdistrict", "committee")
