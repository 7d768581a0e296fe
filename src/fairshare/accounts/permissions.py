"""Who may do what: the role and area predicates of staff users, each written once.

Services, selectors, views, admin screens and API endpoints ask these functions
instead of comparing ``user.role`` themselves. Which rows a user sees (and whether
one committee is among them) is query scoping, in ``fairshare.accounts.scoping``,
which builds on ``has_access`` and ``staff_area`` from here.

A user whose access has expired, who is inactive, anonymous or None may do nothing;
a superuser passes every role check.
"""

from __future__ import annotations

from typing import TypeAlias, TypeGuard

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from fairshare.accounts.models import User
from fairshare.community.models import Pharmacy, Subdistrict
from fairshare.rounds.models import Round

# What a request carries: a staff user, Django's anonymous user, or nothing.
Viewer: TypeAlias = User | AnonymousUser | None

DISTRICT, SUBDISTRICT = User.Role.DISTRICT.value, User.Role.SUBDISTRICT.value
COMMITTEE, PHARMACY = User.Role.COMMITTEE.value, User.Role.PHARMACY.value
STAFF_ROLES = (DISTRICT, SUBDISTRICT, COMMITTEE, PHARMACY)
AREA_ROLES = (DISTRICT, SUBDISTRICT)
# Committee-side staff: committee users (and helpers) and the admins above them.
DESK_ROLES = (COMMITTEE, SUBDISTRICT, DISTRICT)


def has_access(user: Viewer) -> TypeGuard[User]:
    """Active, authenticated and not past ``access_expires_at`` (a role-less user has access
    but every scope is empty)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    expires = getattr(user, "access_expires_at", None)
    return expires is None or expires > timezone.now()


def has_role(user: Viewer, *roles: str) -> TypeGuard[User]:
    """Has access and one of ``roles``, or is a superuser."""
    return has_access(user) and (user.is_superuser or user.role in roles)


def is_area_staff(user: Viewer) -> TypeGuard[User]:
    """District or subdistrict staff (or a superuser)."""
    return has_role(user, *AREA_ROLES)


def is_pharmacy_staff(user: Viewer) -> TypeGuard[User]:
    """Staff of a pharmacy (the terminal's users); no superuser bypass: a superuser works
    for no pharmacy."""
    return has_access(user) and user.role == PHARMACY


def staff_area(user: Viewer) -> tuple[str, int] | None:
    """The area of district or subdistrict staff as a Subdistrict field and its value:
    ``("district_id", d)`` for district staff, ``("id", s)`` for subdistrict staff; None
    for other roles, superusers and users without access."""
    if not has_access(user):
        return None
    if user.role == DISTRICT and user.district_id:
        return ("district_id", user.district_id)
    if user.role == SUBDISTRICT and user.subdistrict_id:
        return ("id", user.subdistrict_id)
    return None


def area_district_id(user: Viewer) -> int | None:
    """The district that district or subdistrict staff work in; None for other roles."""
    area = staff_area(user)
    if area is None or not has_access(user):
        return None
    if area[0] == "district_id":
        return area[1]
    subdistrict = user.subdistrict
    return subdistrict.district_id if subdistrict is not None else None


def covers_district(user: Viewer, district_id: int) -> bool:
    """Superusers, and district staff of that district."""
    if not has_access(user):
        return False
    return user.is_superuser or staff_area(user) == ("district_id", district_id)


def covers_subdistrict(user: Viewer, subdistrict: Subdistrict) -> bool:
    """Superusers, the subdistrict's own staff, and district staff of its district."""
    if not has_access(user):
        return False
    if user.is_superuser:
        return True
    area = staff_area(user)
    return area is not None and getattr(subdistrict, area[0]) == area[1]


def may_declare_supply(user: Viewer, pharmacy: Pharmacy) -> bool:
    """That pharmacy's staff, or subdistrict/district staff of its area."""
    if is_pharmacy_staff(user) and not user.is_superuser:
        return user.pharmacy_id == pharmacy.pk
    return covers_subdistrict(user, pharmacy.subdistrict)


def may_allocate(user: Viewer, round: Round) -> bool:
    """Subdistrict or district staff of the round's district (committee staff may not).

    The engine further limits a run to the pharmacies in the user's area.
    """
    if not has_access(user):
        return False
    return user.is_superuser or area_district_id(user) == round.district_id


def may_manage_round(user: Viewer, round: Round) -> bool:
    """Create, edit, open and close the round, and run its lottery, carry-over, expiry
    and purge: superusers and district staff of its district; subdistrict staff only for
    a round of their own subdistrict (a district-wide round is the district's)."""
    if not has_access(user):
        return False
    if user.is_superuser or covers_district(user, round.district_id):
        return True
    area = staff_area(user)
    return round.subdistrict_id is not None and area == ("id", round.subdistrict_id)
