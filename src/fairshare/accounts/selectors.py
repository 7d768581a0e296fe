from __future__ import annotations

from typing import Any

from fairshare.accounts.scoping import pharmacy_scope_q, scope_q
from fairshare.community.models import Committee, Pharmacy


def staff_places(*, user: Any) -> dict[str, Any]:
    committees = (
        Committee.objects.filter(scope_q(user, "", pharmacy_path="pharmacy"))
        .select_related("pharmacy", "subdistrict")
        .order_by("code")
    )
    pharmacies = Pharmacy.objects.filter(pharmacy_scope_q(user)).distinct().order_by("code")
    return {"committees": committees, "pharmacies": pharmacies}
