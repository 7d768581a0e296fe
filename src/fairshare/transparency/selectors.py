"""Reads for oversight: progress figures (stats), notices and area resolution.

Every figure is computed with aggregate queries (COUNT/SUM ... GROUP BY) in the
database, so a district of ~500,000 households costs a handful of queries and no
per-row Python. Public figures are aggregates only; the returnee count (people
back from outside the city) is staff-only and added by ``stats_for`` only when
``include_staff`` is set by a caller that checked the user's scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.permissions import (
    COMMITTEE,
    SUBDISTRICT,
    Viewer,
    covers_district,
    covers_subdistrict,
    has_access,
    has_role,
    is_area_staff,
)
from fairshare.accounts.scoping import area_q, committee_in_scope
from fairshare.allocation.models import SupplyDay, Voucher
from fairshare.community.models import Committee, District, Household, Pharmacy, Subdistrict
from fairshare.core.errors import NotFound
from fairshare.registration.models import Channel, Registration
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import round_committees_q, round_covers_committee
from fairshare.transparency.models import Notice


def pct(part: int, whole: int) -> float:
    """Percentage rounded half-up to one decimal (26,741 of 44,270 → 60.4)."""
    if not whole:
        return 0.0
    value = Decimal(part * 100) / Decimal(whole)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# --- areas -----------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    """The place a set of figures is about: a district, a subdistrict or a committee."""

    level: str  # "district" | "subdistrict" | "committee"
    district: District
    subdistrict: Subdistrict | None = None
    committee: Committee | None = None

    @property
    def code(self) -> str:
        return self.obj.code

    @property
    def name(self) -> str:
        return self.obj.name

    @property
    def obj(self) -> District | Subdistrict | Committee:
        return self.committee or self.subdistrict or self.district

    def q(self, committee_path: str = "committee") -> Q:
        """Filter rows reachable through ``committee_path`` ("" for Committee) to this area."""
        prefix = f"{committee_path}__" if committee_path else ""
        if self.committee is not None:
            return Q(**{f"{prefix}id": self.committee.pk})
        if self.subdistrict is not None:
            return Q(**{f"{prefix}subdistrict_id": self.subdistrict.pk})
        return Q(**{f"{prefix}subdistrict__district_id": self.district.pk})

    def pharmacy_q(self, pharmacy_path: str = "pharmacy") -> Q:
        """Filter rows reachable through ``pharmacy_path`` ("" for Pharmacy itself)."""
        prefix = f"{pharmacy_path}__" if pharmacy_path else ""
        if self.committee is not None:
            return Q(**{f"{prefix}id": self.committee.pharmacy_id})
        if self.subdistrict is not None:
            return Q(**{f"{prefix}subdistrict_id": self.subdistrict.pk})
        return Q(**{f"{prefix}subdistrict__district_id": self.district.pk})


def area_resolve(
    *,
    round: Round,
    subdistrict: Subdistrict | str | None = None,
    committee: Committee | str | None = None,
    district: District | str | None = None,
) -> Area:
    """Resolve codes or instances to an Area inside the round's district (else NotFound)."""
    rd = round.district
    if committee:
        if not isinstance(committee, Committee):
            committee = (
                Committee.objects.select_related("subdistrict__district", "pharmacy")
                .filter(round_committees_q(round), code=str(committee))
                .first()
            )
        if committee is None or not round_covers_committee(
            round,
            subdistrict_id=committee.subdistrict_id,
            district_id=committee.subdistrict.district_id,
        ):
            raise NotFound(_("Unknown committee."), code="unknown_committee")
        return Area("committee", rd, committee.subdistrict, committee)
    if subdistrict:
        if not isinstance(subdistrict, Subdistrict):
            subdistrict = Subdistrict.objects.filter(code=str(subdistrict), district=rd).first()
        if subdistrict is None or subdistrict.district_id != rd.pk:
            raise NotFound(_("Unknown subdistrict."), code="unknown_subdistrict")
        return Area("subdistrict", rd, subdistrict)
    if district:
        code = district.code if isinstance(district, District) else str(district)
        if code != rd.code:
            raise NotFound(_("Unknown district."), code="unknown_district")
    return Area("district", rd)


def user_covers(user: Viewer, area: Area) -> bool:
    """Whether a staff user's scope contains the whole area (for staff-only figures):
    district staff their district, subdistrict staff their subdistrict and its committees,
    committee staff their own committee or one they are assigned to as a helper (下沉干部)."""
    if covers_district(user, area.district.pk):
        return True
    if area.subdistrict is not None and covers_subdistrict(user, area.subdistrict):
        return True
    return (
        area.committee is not None
        and has_role(user, COMMITTEE)
        and committee_in_scope(user, area.committee.pk)
    )


def user_default_area(*, user: Viewer, round: Round) -> Area | None:
    """The widest area a staff user may see in a round, or None."""
    if not has_access(user):
        return None
    if covers_district(user, round.district_id):
        return Area("district", round.district)
    if user.role == SUBDISTRICT and user.subdistrict_id:
        sub = Subdistrict.objects.filter(pk=user.subdistrict_id, district=round.district).first()
        return Area("subdistrict", round.district, sub) if sub else None
    if user.role == COMMITTEE and user.committee_id:
        com = (
            Committee.objects.select_related("subdistrict", "pharmacy")
            .filter(pk=user.committee_id, subdistrict__district=round.district)
            .first()
        )
        return Area("committee", round.district, com.subdistrict, com) if com else None
    return None


# --- figures ---------------------------------------------------------------------


def _registrations(round: Round, area: Area) -> QuerySet[Registration]:
    return Registration.objects.filter(area.q(), round=round)


def _vouchers(round: Round, area: Area) -> QuerySet[Voucher]:
    return Voucher.objects.filter(area.q(), round=round)


def headline_for(*, round: Round, area: Area) -> dict[str, Any]:
    """The six headline figures of one area (``StatsOut`` in ``transparency/api.py``)."""
    households = Household.objects.filter(area.q()).count()
    registered = _registrations(round, area).exclude(status=Registration.Status.VOID).count()
    v = _vouchers(round, area).aggregate(
        issued=Count("id", filter=Q(status__in=Voucher.ISSUED_STATUSES)),
        redeemed=Count("household", filter=Q(status=Voucher.Status.REDEEMED), distinct=True),
    )
    return {
        "households": households,
        "registered": registered,
        "registered_pct": pct(registered, households),
        "vouchers_issued": v["issued"],
        "redeemed": v["redeemed"],
        "served_pct": pct(v["redeemed"], registered),
    }


def _by_day(round: Round, area: Area) -> list[dict[str, Any]]:
    tz = timezone.get_current_timezone()
    days: dict[date, dict[str, Any]] = {}

    def row(day: date) -> dict[str, Any]:
        return days.setdefault(
            day, {"date": day, "registered": 0, "supply": 0, "issued": 0, "redeemed": 0}
        )

    regs = (
        _registrations(round, area)
        .exclude(status=Registration.Status.VOID)
        .annotate(day=TruncDate("acknowledged_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
    )
    for r in regs:
        row(r["day"])["registered"] = r["n"]
    vouchers = (
        _vouchers(round, area)
        .values("date")
        .annotate(
            issued=Count("id", filter=Q(status__in=Voucher.ISSUED_STATUSES)),
            redeemed=Count("id", filter=Q(status=Voucher.Status.REDEEMED)),
        )
    )
    for v in vouchers:
        row(v["date"]).update(issued=v["issued"], redeemed=v["redeemed"])
    supply = (
        SupplyDay.objects.filter(
            area.pharmacy_q(), date__gte=round.valid_from, date__lte=round.valid_until
        )
        .values("date")
        .annotate(packs=Sum("packs"))
    )
    for s in supply:
        row(s["date"])["supply"] = s["packs"] or 0
    return [days[d] for d in sorted(days)]


def _by_channel(round: Round, area: Area) -> list[dict[str, Any]]:
    counts = dict(
        _registrations(round, area)
        .exclude(status=Registration.Status.VOID)
        .values_list("channel")
        .annotate(n=Count("id"))
    )
    return [
        {"channel": value, "label": str(label), "registered": counts.get(value, 0)}
        for value, label in Channel.choices
    ]


def _by_pharmacy(round: Round, area: Area) -> list[dict[str, Any]]:
    """Confirmed supply against vouchers issued and redeemed, per pharmacy of the area.

    For a committee the supply is that of its pharmacy (shared with the other
    committees it serves); vouchers are the committee's own.
    """
    pharmacies = Pharmacy.objects.filter(area.pharmacy_q("")).order_by("code")
    supply = dict(
        SupplyDay.objects.filter(
            area.pharmacy_q(), date__gte=round.valid_from, date__lte=round.valid_until
        )
        .values_list("pharmacy_id")
        .annotate(packs=Sum("packs"))
    )
    vouchers: dict[int, dict[str, int]] = {
        v["pharmacy_id"]: {"issued": v["issued"], "redeemed": v["redeemed"]}
        for v in _vouchers(round, area)
        .values("pharmacy_id")
        .annotate(
            issued=Count("id", filter=Q(status__in=Voucher.ISSUED_STATUSES)),
            redeemed=Count("id", filter=Q(status=Voucher.Status.REDEEMED)),
        )
    }
    rows = []
    for p in pharmacies:
        v = vouchers.get(p.pk, {})
        rows.append(
            {
                "pharmacy": p.code,
                "name": p.name,
                "supply": supply.get(p.pk) or 0,
                "issued": v.get("issued", 0),
                "redeemed": v.get("redeemed", 0),
            }
        )
    return rows


def stats_for(
    *,
    round: Round,
    subdistrict: Subdistrict | str | None = None,
    committee: Committee | str | None = None,
    district: District | str | None = None,
    include_staff: bool = False,
) -> dict[str, Any]:
    """Progress figures of a round for an area (default: the round's district).

    Keys: round, area {level, code, name}, households, registered, registered_pct,
    vouchers_issued, redeemed, served_pct, by_day, by_channel, by_pharmacy and, with
    ``include_staff``, returnees. ``registered`` counts live registrations (not void);
    ``redeemed`` counts households that bought; ``served_pct`` = redeemed / registered.
    """
    area = area_resolve(
        round=round, subdistrict=subdistrict, committee=committee, district=district
    )
    result: dict[str, Any] = {
        "round": round.pk,
        "area": {"level": area.level, "code": area.code, "name": area.name},
        **headline_for(round=round, area=area),
        "by_day": _by_day(round, area),
        "by_channel": _by_channel(round, area),
        "by_pharmacy": _by_pharmacy(round, area),
    }
    if include_staff:
        result["returnees"] = (
            _registrations(round, area)
            .exclude(status=Registration.Status.VOID)
            .filter(returned_recently=True)
            .count()
        )
    return result


def stats_children(*, round: Round, area: Area) -> list[dict[str, Any]]:
    """Headline figures per child area (district → subdistricts, subdistrict → committees).

    Grouped queries: one per figure, not one per child.
    """
    if area.level == "committee":
        return []
    children: list[Subdistrict] | list[Committee]
    if area.level == "district":
        children = list(Subdistrict.objects.filter(district=area.district).order_by("code"))
        key = "committee__subdistrict_id"
    else:
        children = list(Committee.objects.filter(subdistrict=area.subdistrict).order_by("code"))
        key = "committee_id"

    def grouped(qs: QuerySet[Any], **agg: Any) -> dict[int, dict[str, int]]:
        return {r[key]: r for r in qs.values(key).annotate(**agg)}

    households = grouped(Household.objects.filter(area.q()), n=Count("id"))
    regs = grouped(
        _registrations(round, area).exclude(status=Registration.Status.VOID), n=Count("id")
    )
    vouchers = grouped(
        _vouchers(round, area),
        issued=Count("id", filter=Q(status__in=Voucher.ISSUED_STATUSES)),
        redeemed=Count("household", filter=Q(status=Voucher.Status.REDEEMED), distinct=True),
    )
    rows = []
    for child in children:
        h = households.get(child.pk, {}).get("n", 0)
        r = regs.get(child.pk, {}).get("n", 0)
        v = vouchers.get(child.pk, {})
        rows.append(
            {
                "level": "subdistrict" if area.level == "district" else "committee",
                "code": child.code,
                "name": child.name,
                "households": h,
                "registered": r,
                "registered_pct": pct(r, h),
                "vouchers_issued": v.get("issued", 0),
                "redeemed": v.get("redeemed", 0),
                "served_pct": pct(v.get("redeemed", 0), r),
            }
        )
    return rows


# --- notices ---------------------------------------------------------------------


def notice_subdistricts(*, user: Viewer) -> QuerySet[Subdistrict] | None:
    """Subdistricts the user may publish notices for (those ``covers_subdistrict`` allows);
    None for roles that never may."""
    if not is_area_staff(user):
        return None
    return Subdistrict.objects.filter(area_q(user, ""))


def notices_for(*, subdistrict: Subdistrict | int | str, limit: int = 20) -> QuerySet[Notice]:
    """Published, not withdrawn notices of a subdistrict (instance, id or code), newest first."""
    qs = Notice.objects.filter(withdrawn_at__isnull=True, published_at__lte=timezone.now())
    if isinstance(subdistrict, Subdistrict):
        qs = qs.filter(subdistrict=subdistrict)
    elif isinstance(subdistrict, int):
        qs = qs.filter(subdistrict_id=subdistrict)
    else:
        qs = qs.filter(subdistrict__code=str(subdistrict or ""))
    return qs.order_by("-published_at", "-id")[:limit]
