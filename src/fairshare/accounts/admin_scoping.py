"""Admin screens of community and rounds models, scoped by the role rules of accounts.

``community`` and ``rounds`` sit below ``accounts`` and know nothing of staff roles, so
their scoped admin classes are registered here, in the accounts app (its ``admin``
module imports this one). Staff see only the rows of their scope
(``fairshare.accounts.scoping``) and change them where ``editable_by`` allows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import ForeignKey, Q, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from fairshare.accounts.permissions import (
    AREA_ROLES,
    COMMITTEE,
    DISTRICT,
    PHARMACY,
    SUBDISTRICT,
    Viewer,
    area_district_id,
    has_role,
    is_area_staff,
)
from fairshare.accounts.scoping import pharmacy_scope_q, scope_q
from fairshare.community.models import (
    Building,
    Committee,
    District,
    Household,
    Member,
    Pharmacy,
    Subdistrict,
)
from fairshare.core.audit import audit_record
from fairshare.core.forms import TextRuleAdminMixin
from fairshare.core.locking import write_transaction
from fairshare.rounds.models import Round
from fairshare.rounds.services import round_snapshot


class ScopedAdmin(TextRuleAdminMixin, admin.ModelAdmin):
    """Staff see (and, where ``editable_by`` allows, change) only rows of their scope."""

    committee_path = "committee"
    pharmacy_path: str | None = None
    viewable_by: tuple[str, ...] = (DISTRICT, SUBDISTRICT, COMMITTEE)
    editable_by: tuple[str, ...] = ()

    def scope(self, user: Viewer) -> Q:
        return scope_q(user, self.committee_path, pharmacy_path=self.pharmacy_path)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(self.scope(request.user))

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        """Choices of a link to a scoped model (committee, building, pharmacy, subdistrict)
        are the rows of the user's scope: no other scope's names, no saving into it."""
        related = self.admin_site._registry.get(db_field.related_model)
        if isinstance(related, ScopedAdmin) and "queryset" not in kwargs:
            kwargs["queryset"] = related.get_queryset(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, *self.viewable_by)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return has_role(request.user, *self.viewable_by)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return has_role(request.user, *self.editable_by)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, *self.editable_by)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser


@admin.register(Subdistrict)
class SubdistrictAdmin(ScopedAdmin):
    list_display = ["code", "name", "district"]
    committee_path = "committees"
    viewable_by = AREA_ROLES

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).distinct()


@admin.register(Pharmacy)
class PharmacyAdmin(ScopedAdmin):
    list_display = ["code", "name", "address", "opens_at", "closes_at", "customers_per_slot"]
    viewable_by = (DISTRICT, SUBDISTRICT, COMMITTEE, PHARMACY)
    editable_by = AREA_ROLES

    def scope(self, user: Viewer) -> Q:
        return pharmacy_scope_q(user)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).distinct()


@admin.register(Committee)
class CommitteeAdmin(ScopedAdmin):
    list_display = ["code", "name", "subdistrict", "pharmacy"]
    list_filter = [("subdistrict", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name"]
    committee_path = ""
    editable_by = AREA_ROLES


@admin.register(Building)
class BuildingAdmin(ScopedAdmin):
    list_display = ["committee", "compound", "label", "floors"]
    list_filter = [("committee", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["label", "compound"]
    editable_by = (DISTRICT, SUBDISTRICT, COMMITTEE)


class MemberInline(TextRuleAdminMixin, admin.TabularInline):
    model = Member
    fields = ["name", "lives_alone", "mobility_impaired", "elderly"]
    extra = 0


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ["__str__", "committee", "building", "room"]
    list_filter = [("committee", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["room", "building__label", "members__name"]
    list_select_related = ["building", "committee"]
    raw_id_fields = ["building"]
    inlines = [MemberInline]
    editable_by = (DISTRICT, SUBDISTRICT, COMMITTEE)


@admin.register(Round)
class RoundAdmin(TextRuleAdminMixin, admin.ModelAdmin):
    """Area staff see the rounds of their own district; district staff change them."""

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

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        district_id = area_district_id(request.user)
        return qs.filter(district_id=district_id) if district_id is not None else qs.none()

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if not request.user.is_superuser:
            district_id = area_district_id(request.user) or 0  # 0: no district, no choice
            choices = {
                "district": District.objects.filter(pk=district_id),
                "subdistrict": Subdistrict.objects.filter(district_id=district_id),
                "carry_over_from": Round.objects.filter(district_id=district_id),
            }.get(db_field.name)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_area_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return has_role(request.user, DISTRICT)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def save_model(self, request: HttpRequest, obj: Round, form: Any, change: bool) -> None:
        """Admin edits are audited like the round services' (before/after values)."""
        previous = Round.objects.filter(pk=obj.pk).first() if change and obj.pk else None
        before = round_snapshot(previous) if previous is not None else {}
        with write_transaction():
            super().save_model(request, obj, form, change)
            after = round_snapshot(obj)
            keys = [k for k in after if before.get(k) != after[k]]
            audit_record(
                actor=request.user,
                action="round.admin_change" if change else "round.admin_add",
                obj=obj,
                before={k: before.get(k) for k in keys} if change else {},
                after={k: after[k] for k in keys},
                subdistrict_id=obj.subdistrict_id,
            )
