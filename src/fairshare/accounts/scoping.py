"""Role scoping: which committees, pharmacies and subdistricts a user may see.

Every selector that returns staff-visible data filters through ``scope_q`` so
pages, API endpoints, exports and admin screens all inherit the same rule
(README.md, "Accounts, access and personal data"). A user whose access has expired,
who is inactive, or who has no role, sees nothing; a superuser sees everything.

Helpers sent down from the subdistrict (下沉干部) additionally see the committees of
their ``CommitteeAssignment`` rows that have not expired.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

NOTHING = Q(pk__in=[])
STAFF_ROLES = ("district", "subdistrict", "committee", "pharmacy")


def has_access(user: Any) -> bool:
    """Active, authenticated and not past ``access_expires_at`` (a role-less user has access
    but every scope is empty)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    expires = getattr(user, "access_expires_at", None)
    return expires is None or expires > timezone.now()


def assigned_committee_ids(user: Any) -> QuerySet:
    """Committee ids of the user's helper assignments that have not expired (a subquery)."""
    from fairshare.accounts.models import CommitteeAssignment

    return CommitteeAssignment.objects.filter(
        user_id=user.pk, expires_at__gt=timezone.now()
    ).values("committee_id")


def _committee_key(committee_path: str) -> str:
    return f"{committee_path}_id" if committee_path else "id"


def scope_q(user: Any, committee_path: str = "committee", *, pharmacy_path: str | None = None) -> Q:
    """A Q that limits rows reachable through ``committee_path`` to the user's scope.

    ``committee_path`` is the lookup from the filtered model to its Committee
    ("" when filtering Committee itself). Pharmacy staff see rows of the committees
    their pharmacy serves only when ``pharmacy_path`` is given (the lookup to the
    row's Pharmacy, "" when filtering Pharmacy itself); otherwise nothing.
    """
    if not has_access(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    prefix = f"{committee_path}__" if committee_path else ""
    key = _committee_key(committee_path)
    role = user.role
    if role == "pharmacy":
        if pharmacy_path is None or not user.pharmacy_id:
            return NOTHING
        return Q(**{_committee_key(pharmacy_path): user.pharmacy_id})
    if role == "district" and user.district_id:
        own = Q(**{f"{prefix}subdistrict__district_id": user.district_id})
    elif role == "subdistrict" and user.subdistrict_id:
        own = Q(**{f"{prefix}subdistrict_id": user.subdistrict_id})
    elif role == "committee" and user.committee_id:
        own = Q(**{key: user.committee_id})
    else:
        own = NOTHING
    return own | Q(**{f"{key}__in": assigned_committee_ids(user)})


def scoped(
    queryset: QuerySet,
    user: Any,
    committee_path: str = "committee",
    *,
    pharmacy_path: str | None = None,
) -> QuerySet:
    return queryset.filter(scope_q(user, committee_path, pharmacy_path=pharmacy_path))


def pharmacy_scope_q(user: Any, pharmacy_path: str = "") -> Q:
    """Limit Pharmacy-linked rows: pharmacy staff their own; area staff those of their area;
    committee staff (and helpers) the pharmacies serving their committees."""
    if not has_access(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    prefix = f"{pharmacy_path}__" if pharmacy_path else ""
    role = user.role
    if role == "pharmacy":
        return Q(**{f"{prefix}id": user.pharmacy_id}) if user.pharmacy_id else NOTHING
    if role == "district" and user.district_id:
        own = Q(**{f"{prefix}subdistrict__district_id": user.district_id})
    elif role == "subdistrict" and user.subdistrict_id:
        own = Q(**{f"{prefix}subdistrict_id": user.subdistrict_id})
    elif role == "committee" and user.committee_id:
        own = Q(**{f"{prefix}committees__id": user.committee_id})
    else:
        own = NOTHING
    return own | Q(**{f"{prefix}committees__id__in": assigned_committee_ids(user)})


def committee_in_scope(user: Any, committee: Any) -> bool:
    """Whether ``committee`` (a Committee) is within the user's committee scope."""
    from fairshare.community.models import Committee

    if committee is None:
        return False
    return Committee.objects.filter(scope_q(user, ""), pk=committee.pk).exists()
