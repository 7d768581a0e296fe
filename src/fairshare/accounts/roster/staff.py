"""The staff sheet: accounts of committee, pharmacy and subdistrict staff. Never a
password in the file: a new account gets a one-time password (``services.one_time_password_set``),
returned once by the import and changed by its owner at the first login."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.roster.apply_places import Ids, Tally
from fairshare.accounts.roster.context import Context
from fairshare.accounts.roster.errors import ErrorList
from fairshare.accounts.roster.reader import Sheet
from fairshare.accounts.roster.text import compact, day, fold
from fairshare.accounts.roster.wanted import StaffWant, Wanted
from fairshare.accounts.services import one_time_password_set

ROLES = {
    "committee": User.Role.COMMITTEE.value,
    "居委会": User.Role.COMMITTEE.value,
    "pharmacy": User.Role.PHARMACY.value,
    "药店": User.Role.PHARMACY.value,
    "subdistrict": User.Role.SUBDISTRICT.value,
    "街道": User.Role.SUBDISTRICT.value,
}
USERNAME_MAX = 150


def _expiry(text: str) -> datetime | None:
    """The end of the given day (local time)."""
    value = day(text)
    if value is None:
        return None
    return timezone.make_aware(datetime.combine(value + timedelta(days=1), time()))


def _scope_ok(ctx: Context, wanted: Wanted, role: str, scope: str) -> str | None:
    """None when the scope exists (in the file or the database) within the import's area."""
    if role == User.Role.COMMITTEE:
        known = scope in wanted.committees or scope in ctx.committees
        existing = ctx.committees.get(scope)
        area = existing.subdistrict if existing and scope not in wanted.committees else None
    elif role == User.Role.PHARMACY:
        known = scope in wanted.pharmacies or scope in ctx.pharmacies
        ph = ctx.pharmacies.get(scope)
        area = ph.subdistrict if ph and scope not in wanted.pharmacies else None
    else:
        sub = ctx.subdistricts.get(scope)
        known = sub is not None or scope in wanted.subdistricts.values()
        area = sub
    if not known:
        return str(_("Unknown committee, pharmacy or subdistrict for this role."))
    if area is not None and not ctx.allowed(area):
        return str(_("This scope is outside the area of this import."))
    return None


def _staff_row(
    sheet: Sheet, row: int, cells: dict[str, str], ctx: Context, wanted: Wanted, errors: ErrorList
) -> StaffWant | None:
    username = fold(cells.get("username"))
    role = ROLES.get(compact(cells.get("role")).casefold())
    scope = compact(cells.get("scope"))
    expires = None
    ok = True
    if not username or len(username) > USERNAME_MAX or " " in username:
        errors.add(
            sheet.name,
            row,
            sheet.header("username"),
            _("A login name without spaces, at most 150 characters."),
        )
        ok = False
    if role is None:
        errors.add(
            sheet.name,
            row,
            sheet.header("role"),
            _("The role is committee, pharmacy or subdistrict (居委会, 药店, 街道)."),
        )
        return None
    problem = _scope_ok(ctx, wanted, role, scope or fold(cells.get("scope")))
    if problem:
        errors.add(sheet.name, row, sheet.header("scope"), problem)
        ok = False
    if fold(cells.get("expires")):
        expires = _expiry(cells.get("expires", ""))
        if expires is None or expires <= timezone.now():
            errors.add(
                sheet.name,
                row,
                sheet.header("expires"),
                _("A date in the future, written as 2026-03-01."),
            )
            ok = False
    return StaffWant(username, role, scope, expires, row) if ok else None


def plan_staff(sheets: list[Sheet], ctx: Context, wanted: Wanted, errors: ErrorList) -> None:
    seen: dict[str, int] = {}
    for sheet in sheets:
        for row, cells in sheet.rows:
            want = _staff_row(sheet, row, cells, ctx, wanted, errors)
            if want is None:
                continue
            key = want.username.casefold()
            if key in seen:
                errors.add(
                    sheet.name,
                    row,
                    sheet.header("username"),
                    _("This login name is already in row %(row)s.") % {"row": seen[key]},
                )
                continue
            seen[key] = row
            wanted.staff.append(want)


def _scope_fields(want: StaffWant, ids: Ids, ctx: Context) -> dict[str, int | None]:
    fields: dict[str, int | None] = {
        "committee_id": None,
        "pharmacy_id": None,
        "subdistrict_id": None,
        "district_id": None,
    }
    if want.role == User.Role.COMMITTEE:
        fields["committee_id"] = ids.committees.get(want.scope)
    elif want.role == User.Role.PHARMACY:
        fields["pharmacy_id"] = ids.pharmacies.get(want.scope)
    else:
        sub = ctx.subdistricts.get(want.scope)
        fields["subdistrict_id"] = sub.pk if sub else ids.subdistricts.get(f"new:{want.scope}")
    return fields


def _needs_password(user: User, *, reset: bool) -> bool:
    """A one-time password for a new account (no password at all), and with ``reset`` for
    one whose one-time password is still unchanged; never for one with its own password."""
    if not user.has_usable_password():
        return True
    return reset and user.password_change_required


def write_staff(
    ctx: Context,
    wanted: Wanted,
    ids: Ids,
    sheet: str,
    errors: ErrorList,
    *,
    write: bool,
    reset_passwords: bool = False,
) -> tuple[Tally, list[tuple[str, str]]]:
    """Create and update accounts; the (username, one-time password) of every account
    that gets one (``_needs_password``), in clear text only here, to be shown once."""
    tally, passwords = Tally(), []
    for want in wanted.staff:
        user = User.objects.filter(username__iexact=want.username).first()
        if user is not None and (
            user.is_superuser
            or user.role not in ROLES.values()
            or (ctx.actor is not None and not _user_in_area(ctx, user))
        ):
            errors.add(sheet, want.row, "", _("This login name is taken by another account."))
            continue
        fields = _scope_fields(want, ids, ctx)
        values = {"role": want.role, "access_expires_at": want.expires_at, **fields}
        if user is None:
            tally.created += 1
            if write:
                user = User(username=want.username, is_staff=True, **values)
                user.set_unusable_password()  # until its one-time password, just below
                user.save()
        elif any(getattr(user, k) != v for k, v in values.items()):
            tally.updated += 1
            if write:
                for key, value in values.items():
                    setattr(user, key, value)
                user.save(update_fields=list(values))
        else:
            tally.unchanged += 1
        if write and user is not None and _needs_password(user, reset=reset_passwords):
            passwords.append((user.username, one_time_password_set(user=user)))
    return tally, passwords


def _user_in_area(ctx: Context, user: User) -> bool:
    if user.committee_id:
        sub = user.committee.subdistrict if user.committee else None
    elif user.pharmacy_id:
        sub = user.pharmacy.subdistrict if user.pharmacy else None
    else:
        sub = user.subdistrict
    return sub is not None and ctx.allowed(sub)
