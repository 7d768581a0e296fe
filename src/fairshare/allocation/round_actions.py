"""The round life cycle for staff, shared by the API (``round_api``) and the staff pages
(``round_pages``): who may act on which round, the area and values of a new round, and
the actions whose services live in this layer or below (lottery, carry-over, voucher
expiry, purge). See docs/rounds.md.

A round is seen by district staff of its district and by subdistrict staff of a
subdistrict it covers (``accounts.scoping.rounds_scope_q``); it is managed by district
staff, and by subdistrict staff when it is a round of their own subdistrict
(``accounts.permissions.may_manage_round``). Unknown or unseen rounds are 404, seen but
not managed 403.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import DISTRICT, Viewer, is_area_staff, may_manage_round
from fairshare.accounts.purge import FINISHED, personal_data_purge
from fairshare.accounts.scoping import area_q, rounds_scope_q, scope_q
from fairshare.allocation.carryover import carry_over_run
from fairshare.allocation.services import lottery_commit, lottery_reveal, voucher_expire_due
from fairshare.community.models import Committee, District, Pharmacy, Subdistrict
from fairshare.community.services import committee_pharmacy_set
from fairshare.core.errors import FieldErrors, Forbidden, NotFound
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import MAX_ID, round_committees_q
from fairshare.rounds.services import FIELDS, RoundArea, round_snapshot

NOT_AREA_STAFF = _("Only district and subdistrict staff manage rounds.")
NOT_YOURS = _("This round belongs to the district office (or another subdistrict).")


def require_area_staff(user: Viewer) -> User:
    if not is_area_staff(user):
        raise Forbidden(NOT_AREA_STAFF)
    return user


def rounds_visible(user: Viewer) -> Any:
    """The rounds the user sees, newest first (a QuerySet)."""
    if not is_area_staff(user):
        return Round.objects.none()
    return (
        Round.objects.filter(rounds_scope_q(user))
        .distinct()
        .select_related("district", "subdistrict")
        .order_by("-registration_opens_at", "id")
    )


def round_visible(user: Viewer, round_id: int | str) -> Round:
    require_area_staff(user)
    try:
        pk = int(round_id)
    except (TypeError, ValueError):
        pk = 0
    found = rounds_visible(user).filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if found is None:
        raise NotFound(_("Unknown round."), code="unknown_round")
    return found


def round_managed(user: Viewer, round_id: int | str) -> Round:
    """The round, when the user may manage it: 404 unseen, 403 seen but not theirs."""
    found = round_visible(user, round_id)
    if not may_manage_round(user, found):
        raise Forbidden(NOT_YOURS)
    return found


def area_resolve(*, user: User, subdistrict: str | None, district: str | None) -> RoundArea:
    """The area of a new round from a subdistrict or district code or name, which must be
    in the caller's area (else a 422 on that field). Subdistrict staff create rounds of
    their own subdistrict only; without either field, the caller's own area."""
    mine = Subdistrict.objects.filter(area_q(user, ""))
    if subdistrict:
        found = mine.filter(Q(code=subdistrict) | Q(name=subdistrict)).first()
        if found is None:
            raise FieldErrors({"subdistrict": [_("No such subdistrict in your area.")]})
        return RoundArea(district_id=found.district_id, subdistrict_id=found.pk)
    if district or user.is_superuser or user.role == DISTRICT:
        districts = District.objects.filter(pk__in=mine.values("district_id"))
        if not user.is_superuser and user.role != DISTRICT:
            districts = districts.none()  # subdistrict staff: no district-wide rounds
        found_d = (
            districts.filter(Q(code=district) | Q(name=district)).first()
            if district
            else districts.first()
        )
        if found_d is None:
            raise FieldErrors({"district": [_("No such district in your area.")]})
        return RoundArea(district_id=found_d.pk)
    own = user.subdistrict
    if own is None:
        raise FieldErrors({"subdistrict": [_("Choose the subdistrict of the round.")]})
    return RoundArea(district_id=own.district_id, subdistrict_id=own.pk)


def round_values(*, user: User, data: dict[str, Any], district_id: int) -> dict[str, Any]:
    """API or form values as model values: ``carry_over_from`` (an id) becomes the round,
    which must be one the user sees in the same district (else 422)."""
    values = {k: v for k, v in data.items() if k in FIELDS}
    if "carry_over_from" in values and values["carry_over_from"] is not None:
        previous = (
            rounds_visible(user)
            .filter(pk=values["carry_over_from"], district_id=district_id)
            .first()
            if 0 < int(values["carry_over_from"]) <= MAX_ID
            else None
        )
        if previous is None:
            raise FieldErrors({"carry_over_from": [_("No such round in your area.")]})
        values["carry_over_from"] = previous
    return values


def round_out(round: Round) -> dict[str, Any]:
    """The round as the API answers it (plain JSON, for keyed answers)."""
    out = round_snapshot(round)
    out.update(
        id=round.pk,
        district=round.district.code,
        subdistrict=round.subdistrict.code if round.subdistrict is not None else None,
        lottery_commitment=round.lottery_commitment,
        lottery_seed=round.lottery_seed,
        purge=purge_schedule(round),
    )
    return out


def purge_schedule(round: Round) -> dict[str, Any]:
    """When ``purge_due`` will delete the round's personal data: the day after
    FAIRSHARE_PURGE_AFTER_DAYS days past its last purchase day, once it is closed."""
    days = settings.FAIRSHARE_PURGE_AFTER_DAYS
    due = round.valid_until + timedelta(days=days + 1)
    return {
        "after_days": days,
        "due_on": due.isoformat(),
        "finished": round.status in FINISHED,
        "due_now": round.status in FINISHED and due <= timezone.localdate(),
    }


def committees_of(round: Round) -> Any:
    return (
        Committee.objects.filter(round_committees_q(round))
        .select_related("pharmacy", "subdistrict")
        .order_by("code")
    )


# --- actions (each one service call; the service audits) --------------------------


def action_lottery_commit(*, user: User, round: Round) -> dict[str, Any]:
    return {"commitment": lottery_commit(round=round, actor=user)}


def action_lottery_reveal(*, user: User, round: Round, seed: str | None) -> dict[str, Any]:
    return {"seed": lottery_reveal(round=round, seed=seed or None, actor=user)}


def action_expire(*, round: Round, today: Date | None = None) -> dict[str, Any]:
    return {"expired": voucher_expire_due(today=today or timezone.localdate(), round=round)}


def action_carry_over(*, user: User, round: Round) -> dict[str, Any]:
    return carry_over_run(round=round, actor=user)


def action_purge(*, user: User, round: Round, dry_run: bool) -> dict[str, Any]:
    result = personal_data_purge(round=round, actor=user, dry_run=dry_run)
    return {
        "dry_run": result.dry_run,
        "registrations": result.registrations,
        "files": len(result.files),
        "messages": result.messages,
        "cleared": result.cleared,
    }


def committee_mapping_set(*, user: User, code: str, pharmacy_code: str) -> Committee:
    """Set a committee's serving pharmacy; both in the caller's area (404 / 422)."""
    require_area_staff(user)
    committee = Committee.objects.filter(scope_q(user, ""), code=code).first()
    if committee is None or not is_area_staff(user):
        raise NotFound(_("Unknown committee."), code="unknown_committee")
    pharmacy = Pharmacy.objects.filter(area_q(user), code=pharmacy_code).first()
    if pharmacy is None:
        raise FieldErrors({"pharmacy": [_("No such pharmacy in your area.")]})
    return committee_pharmacy_set(committee=committee, pharmacy=pharmacy, actor=user)
