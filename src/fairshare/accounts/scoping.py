"""Role scoping: which committees, pharmacies and subdistricts a user may see.

Every selector that returns staff-visible data filters through ``scope_q`` so
pages, API endpoints, exports and admin screens all inherit the same rule (the
access matrix in tests/accounts/test_matrix.py pins it down). A user whose access
has expired, who is inactive, or who has no role, sees nothing; a superuser sees
everything. The role predicates these filters build on are in
``fairshare.accounts.permissions``.

Helpers sent down from the subdistrict (下沉干部) additionally see the committees of
their ``CommitteeAssignment`` rows that have not expired.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise

from fairshare.accounts.models import CommitteeAssignment, User
from fairshare.accounts.permissions import COMMITTEE, PHARMACY, Viewer, has_access, staff_area
from fairshare.community.models import Committee
from fairshare.core.errors import Forbidden

NOTHING = Q(pk__in=[])


def assigned_committee_ids(user: User) -> QuerySet:
    """Committee ids of the user's helper assignments that have not expired (a subquery)."""
    return CommitteeAssignment.objects.filter(
        user_id=user.pk, expires_at__gt=timezone.now()
    ).values("committee_id")


def _committee_key(committee_path: str) -> str:
    # "<path>__id", not "<path>_id": the path may be a reverse relation ("committees").
    return f"{committee_path}__id" if committee_path else "id"


def _area_q(user: Viewer, subdistrict_path: str) -> Q:
    """Rows whose subdistrict (through ``subdistrict_path``; "" for Subdistrict itself) is
    in the area of district or subdistrict staff; NOTHING for every other user."""
    area = staff_area(user)
    if area is None:
        return NOTHING
    field, value = area
    return Q(**{f"{subdistrict_path}__{field}" if subdistrict_path else field: value})


def area_q(user: Viewer, subdistrict_path: str = "subdistrict") -> Q:
    """Rows of the user's area (see ``_area_q``); everything for superusers."""
    if not has_access(user):
        return NOTHING
    return Q() if user.is_superuser else _area_q(user, subdistrict_path)


def scope_q(
    user: Viewer, committee_path: str = "committee", *, pharmacy_path: str | None = None
) -> Q:
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
    key = _committee_key(committee_path)
    if user.role == PHARMACY:
        if pharmacy_path is None or not user.pharmacy_id:
            return NOTHING
        return Q(**{_committee_key(pharmacy_path): user.pharmacy_id})
    if user.role == COMMITTEE:
        own = Q(**{key: user.committee_id}) if user.committee_id else NOTHING
    else:
        own = _area_q(user, f"{committee_path}__subdistrict" if committee_path else "subdistrict")
    return own | Q(**{f"{key}__in": assigned_committee_ids(user)})


def scoped(
    queryset: QuerySet,
    user: Viewer,
    committee_path: str = "committee",
    *,
    pharmacy_path: str | None = None,
) -> QuerySet:
    return queryset.filter(scope_q(user, committee_path, pharmacy_path=pharmacy_path))


def pharmacy_scope_q(user: Viewer, pharmacy_path: str = "") -> Q:
    """Limit Pharmacy-linked rows: pharmacy staff their own; area staff those of their area;
    committee staff (and helpers) the pharmacies serving their committees."""
    if not has_access(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    prefix = f"{pharmacy_path}__" if pharmacy_path else ""
    if user.role == PHARMACY:
        return Q(**{f"{prefix}id": user.pharmacy_id}) if user.pharmacy_id else NOTHING
    if user.role == COMMITTEE:
        own = Q(**{f"{prefix}committees__id": user.committee_id}) if user.committee_id else NOTHING
    else:
        own = _area_q(user, f"{prefix}subdistrict")
    return own | Q(**{f"{prefix}committees__id__in": assigned_committee_ids(user)})


def committee_in_scope(user: Viewer, committee_id: int | None) -> bool:
    """Whether the committee with this id is within the user's committee scope."""
    if committee_id is None:
        return False
    return Committee.objects.filter(scope_q(user, ""), pk=committee_id).exists()


def require_committee_in_scope(
    user: Viewer,
    committee_id: int | None,
    *,
    message: str | Promise,
) -> None:
    """Forbidden (403) with ``message`` unless the committee is in the user's scope."""
    if not committee_in_scope(user, committee_id):
        raise Forbidden(message)


def rounds_scope_q(user: Viewer) -> Q:
    """Rounds area staff see: those of their district (district staff), those of their
    district covering their subdistrict (subdistrict staff); all for superusers."""
    if not has_access(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    area = staff_area(user)
    if area is None:
        return NOTHING
    if area[0] == "district_id":
        return Q(district_id=area[1])
    return Q(district__subdistricts__id=area[1]) & (
        Q(subdistrict__isnull=True) | Q(subdistrict_id=area[1])
    )
