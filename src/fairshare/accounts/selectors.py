"""Reads for staff pages and the API, always through the role scoping."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from fairshare.accounts.models import ApiToken, CommitteeAssignment, User
from fairshare.accounts.permissions import PHARMACY, Viewer, has_access, is_area_staff
from fairshare.accounts.scoping import NOTHING, area_q, pharmacy_scope_q, scope_q
from fairshare.community.models import Committee, Pharmacy
from fairshare.core.models import AuditLog
from fairshare.rounds.models import Round


def staff_places(*, user: Viewer) -> dict[str, Any]:
    committees = (
        Committee.objects.filter(scope_q(user, "", pharmacy_path="pharmacy"))
        .select_related("pharmacy", "subdistrict")
        .distinct()
        .order_by("code")
    )
    pharmacies = Pharmacy.objects.filter(pharmacy_scope_q(user)).distinct().order_by("code")
    rounds = Round.objects.filter(status__in=[Round.Status.OPEN, Round.Status.CLOSED]).order_by(
        "-registration_opens_at"
    )[:3]
    return {"committees": committees, "pharmacies": pharmacies, "rounds": rounds}


def committees_in_scope(*, user: Viewer) -> QuerySet[Committee]:
    return (
        Committee.objects.filter(scope_q(user, ""))
        .select_related("subdistrict")
        .distinct()
        .order_by("code")
    )


def token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created_at", "-id")


def helper_list(*, user: Viewer) -> QuerySet[User]:
    """Helpers (committee staff with an expiry or an assignment) in the user's area."""
    if not is_area_staff(user):
        return User.objects.none()
    area = scope_q(user, "committee")
    assigned = CommitteeAssignment.objects.filter(scope_q(user, "committee")).values("user_id")
    return (
        User.objects.filter(role=User.Role.COMMITTEE)
        .filter(area & (Q(access_expires_at__isnull=False) | Q(pk__in=assigned)))
        .select_related("committee")
        .order_by("username")
    )


def assignment_list(*, user: Viewer) -> QuerySet[CommitteeAssignment]:
    return (
        CommitteeAssignment.objects.filter(scope_q(user, "committee"))
        .select_related("user", "committee", "assigned_by")
        .order_by("user__username", "committee__code")
    )


def audit_scope_q(user: Viewer) -> Q:
    """Audit entries of the user's scope, plus the user's own actions."""
    if not has_access(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    q = Q(committee__isnull=False) & scope_q(user, "committee", pharmacy_path="pharmacy")
    q |= area_q(user, "subdistrict") | area_q(user, "pharmacy__subdistrict")
    if user.role == PHARMACY and user.pharmacy_id:
        q |= Q(pharmacy_id=user.pharmacy_id)
    return q | Q(actor_id=user.pk)


def audit_entries(
    *,
    user: Viewer,
    action: str = "",
    actor: str = "",
    committee: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditLog]:
    qs = AuditLog.objects.filter(audit_scope_q(user)).select_related("committee", "actor")
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_username__iexact=actor)
    if committee:
        qs = qs.filter(committee__code=committee)
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs.order_by("-at", "-id")


def staff_account_list(*, user: Viewer) -> QuerySet[User]:
    """The staff accounts that district and subdistrict staff manage (reset a password,
    deactivate): committee staff and helpers whose home committee, pharmacy staff whose
    pharmacy, and subdistrict staff whose subdistrict is in the user's area; never the
    user, a superuser or district staff. Nothing for other roles."""
    if not is_area_staff(user):
        return User.objects.none()
    q = (
        (Q(role=User.Role.COMMITTEE) & area_q(user, "committee__subdistrict"))
        | (Q(role=User.Role.PHARMACY) & area_q(user, "pharmacy__subdistrict"))
        | (Q(role=User.Role.SUBDISTRICT) & area_q(user, "subdistrict"))
    )
    return (
        User.objects.filter(q, is_superuser=False)
        .exclude(pk=user.pk)
        .select_related("committee", "pharmacy", "subdistrict")
        .order_by("role", "username")
    )
