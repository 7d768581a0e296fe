"""``roster_import``: files → places, households, members and staff, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO

from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import SUBDISTRICT, is_area_staff
from fairshare.accounts.roster.apply_households import (
    diff_households,
    member_counts,
    write_households,
)
from fairshare.accounts.roster.apply_places import (
    Ids,
    write_buildings,
    write_committees,
    write_pharmacies,
    write_subdistricts,
)
from fairshare.accounts.roster.bulk import bulk_session
from fairshare.accounts.roster.columns import HOUSEHOLDS, KINDS, STAFF
from fairshare.accounts.roster.context import Context
from fairshare.accounts.roster.errors import ErrorList, ImportRefused, Progress, no_progress
from fairshare.accounts.roster.households import plan_households
from fairshare.accounts.roster.idcheck import fast_id_hasher
from fairshare.accounts.roster.plan import plan_places, settle_service
from fairshare.accounts.roster.reader import Sheet, read_files
from fairshare.accounts.roster.staff import plan_staff, write_staff
from fairshare.accounts.roster.wanted import Wanted
from fairshare.community.models import Subdistrict
from fairshare.core.audit import audit_record
from fairshare.core.errors import Forbidden
from fairshare.core.locking import write_transaction


@dataclass
class ImportResult:
    dry_run: bool
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # sheet kind → tally
    # (username, one-time password) of the staff accounts given one: shown once, never
    # stored, never in the summary (the audit log's record).
    passwords: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, object]:
        return {"dry_run": self.dry_run, "counts": self.counts}


def _default_subdistrict(actor: User | None, subdistrict: Subdistrict | None) -> Subdistrict | None:
    if actor is None:
        return subdistrict
    if not is_area_staff(actor):
        raise Forbidden(_("Only subdistrict and district staff can import a roster."))
    if actor.role == SUBDISTRICT and not actor.is_superuser:
        return actor.subdistrict
    return subdistrict


def _plan(
    sheets: list[Sheet],
    ctx: Context,
    hasher: Callable[[str], str],
    errors: ErrorList,
    progress: Progress,
) -> Wanted:
    sheet_of = {kind: next((s.name for s in sheets if s.kind == kind), "") for kind in KINDS}
    if not sheet_of[HOUSEHOLDS]:
        errors.add("", None, "", _("The households sheet (住户/households) is missing."))
        raise ImportRefused(errors)
    wanted = Wanted(district_name=ctx.district_name)
    plan_places(sheets, wanted, errors)
    plan_households(
        [s for s in sheets if s.kind == HOUSEHOLDS], ctx, wanted, hasher, errors, progress
    )
    settle_service(ctx, wanted, sheet_of, errors)
    plan_staff([s for s in sheets if s.kind == STAFF], ctx, wanted, errors)
    if errors:
        raise ImportRefused(errors)
    return wanted


def _write(
    ctx: Context,
    wanted: Wanted,
    sheets: list[Sheet],
    *,
    write: bool,
    errors: ErrorList,
    progress: Progress,
    reset_passwords: bool = False,
) -> ImportResult:
    names = {kind: next((s.name for s in sheets if s.kind == kind), "") for kind in KINDS}
    diff = diff_households(ctx, wanted, names[HOUSEHOLDS], errors)
    if errors:
        raise ImportRefused(errors)
    result, ids = ImportResult(dry_run=not write), Ids()
    progress("places")
    result.counts["subdistricts"] = write_subdistricts(ctx, wanted, ids, write=write).as_dict()
    result.counts["pharmacies"] = write_pharmacies(ctx, wanted, ids, write=write).as_dict()
    result.counts["committees"] = write_committees(ctx, wanted, ids, write=write).as_dict()
    buildings = write_buildings(ctx, wanted, ids, write=write)
    progress("households")
    households = write_households(diff, ids, write=write, progress=progress).as_dict()
    result.counts["households"] = {
        **households,
        "members": member_counts(wanted),
        "buildings_created": buildings,
    }
    progress("staff")
    staff, result.passwords = write_staff(
        ctx, wanted, ids, names[STAFF], errors, write=write, reset_passwords=reset_passwords
    )
    result.counts["staff"] = staff.as_dict()
    if errors:
        raise ImportRefused(errors)
    return result


def roster_import(
    *,
    files: Iterable[tuple[str, IO[bytes]]],
    actor: User | None,
    subdistrict: Subdistrict | None = None,
    district_name: str | None = None,
    dry_run: bool = False,
    hasher: Callable[[str], str] | None = None,
    progress: Progress | None = None,
    reset_passwords: bool = False,
) -> ImportResult:
    """Validate every row, then (unless ``dry_run``) write all of it in one transaction.

    ``actor`` None is the command line (it may create subdistricts, in ``district_name``);
    a staff user imports within their own area only. Raises ImportRefused with the
    per-row errors (nothing written), or Forbidden for users who may not import.
    New staff accounts get a one-time password (``ImportResult.passwords``); with
    ``reset_passwords`` also those whose one-time password is still unchanged.
    """
    step = progress or no_progress
    errors = ErrorList()
    step("reading")
    sheets = read_files(files, errors)
    if errors:
        raise ImportRefused(errors)
    return roster_import_sheets(
        sheets=sheets,
        actor=actor,
        subdistrict=subdistrict,
        district_name=district_name,
        dry_run=dry_run,
        hasher=hasher,
        progress=step,
        reset_passwords=reset_passwords,
    )


def roster_import_sheets(
    *,
    sheets: list[Sheet],
    actor: User | None,
    subdistrict: Subdistrict | None = None,
    district_name: str | None = None,
    dry_run: bool = False,
    hasher: Callable[[str], str] | None = None,
    progress: Progress | None = None,
    reset_passwords: bool = False,
) -> ImportResult:
    """``roster_import`` of sheets already read (or built in memory, as ``seed_demo``
    does): the same checks, the same writing, the same audit record."""
    step = progress or no_progress
    default = _default_subdistrict(actor, subdistrict)
    errors = ErrorList()
    with write_transaction(lock_timeout_ms=60_000), bulk_session():
        ctx = Context.load(actor=actor, subdistrict=default, district_name=district_name)
        step("checking")
        wanted = _plan(sheets, ctx, hasher or fast_id_hasher(), errors, step)
        result = _write(
            ctx,
            wanted,
            sheets,
            write=not dry_run,
            errors=errors,
            progress=step,
            reset_passwords=reset_passwords,
        )
        if not dry_run:
            audit_record(
                actor=actor,
                action="roster.import",
                after=result.summary(),
                subdistrict_id=default.pk if default else None,
                note=", ".join(sorted({s.name for s in sheets}))[:200],
            )
    return result
