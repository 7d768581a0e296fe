"""Role scoping: which committees, pharmacies and subdistricts a user may see.

Every selector that returns staff-visible data filters through ``scope_q`` so
pages, API endpoints, exports and admin screens all inherit the same rule
(BRIEF invariant 7). A user whose access has expired, or who has no role, sees
nothing; a superuser sees everything.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

NOTHING = Q(pk__in=[])


def has_access(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    expires = getattr(user, "access_expires_at", None)
    return expires is None or expires > timezone.now()


def scope_q(user: Any, committee_path: str = "committee", *, pharmacy_path: str | None = None) -> Q:
    """A Q that limits rows reachable through ``committee_path`` to the user's scope.

    ``committee_path`` is the lookup from the filtered model to its Committee
    ("" when filtering Committee itself). Pharmacy staff see rows of the committees
    their pharmacy serves only when ``pharmacy_path`` is given (the lookup to the
    row's Pharmacy); otherwise nothing.
    """
    if not has_access(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    prefix = f"{committee_path}__" if committee_path else ""
    role = user.role
    if role == "district":
        return Q(**{f"{prefix}subdistrict__district_id": user.district_id})
    if role == "subdistrict":
        return Q(**{f"{prefix}subdistrict_id": user.subdistrict_id})
    if role == "committee":
        return Q(
            **{f"{prefix}id" if not committee_path else f"{committee_path}_id": user.committee_id}
        )
    if role == "pharmacy" and pharmacy_path is not None:
        key = f"{pharmacy_path}_id" if pharmacy_path else "id"
        return Q(**{key: user.pharmacy_id})
    return NOTHING


def scoped(
    queryset: QuerySet,
    user: Any,
    committee_path: str = "committee",
    *,
    pharmacy_path: str | None = None,
) -> QuerySet:
    return queryset.filter(scope_q(user, committee_path, pharmacy_path=pharmacy_path))


def pharmacy_scope_q(user: Any, pharmacy_path: str = "") -> Q:
    """Limit Pharmacy-linked rows: pharmacy staff their own; area staff those of their area."""
    if not has_access(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    prefix = f"{pharmacy_path}__" if pharmacy_path else ""
    if user.role == "pharmacy":
        return Q(**{f"{prefix}id": user.pharmacy_id})
    if user.role == "district":
        return Q(**{f"{prefix}subdistrict__district_id": user.district_id})
    if user.role == "subdistrict":
        return Q(**{f"{prefix}subdistrict_id": user.subdistrict_id})
    if user.role == "committee":
        return Q(**{f"{prefix}committees__id": user.committee_id})
    return NOTHING
