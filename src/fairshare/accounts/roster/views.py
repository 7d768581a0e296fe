"""The roster upload page of subdistrict (and district) staff: upload → check (a dry run
with its counts or its errors) → confirm (the real import, the same files)."""

from __future__ import annotations

import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fairshare.accounts.permissions import AREA_ROLES
from fairshare.accounts.requests import StaffRequest
from fairshare.accounts.roster.errors import ImportRefused
from fairshare.accounts.roster.services import ImportResult, roster_import
from fairshare.accounts.views import staff_required

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # all files of one import together
KEEP_SECONDS = 3600  # an upload not confirmed within an hour is deleted
SESSION_KEY = "roster_import"
# A context: "Households" elsewhere is a count (户数), here the roster's sheet (住户).
LABELS = {
    "subdistricts": pgettext_lazy("roster sheet", "Subdistricts"),
    "pharmacies": pgettext_lazy("roster sheet", "Pharmacies"),
    "committees": pgettext_lazy("roster sheet", "Committees"),
    "households": pgettext_lazy("roster sheet", "Households"),
    "staff": pgettext_lazy("roster sheet", "Staff accounts"),
}


def _rows(result: ImportResult) -> list[tuple[object, dict[str, int]]]:
    return [(LABELS.get(kind, kind), tally) for kind, tally in result.counts.items()]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = data if isinstance(data, list | tuple) else [data]
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in items if item]
        if not cleaned:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return cleaned


class RosterUploadForm(forms.Form):
    upload = MultipleFileField(
        label=_("Workbook (XLSX) or CSV files"),
        widget=MultipleFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_upload(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data["upload"]
        if sum(f.size or 0 for f in files) > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The files are larger than 50 MB together."))
        return files


def _upload_root() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "roster-imports"


def _forget_old_uploads() -> None:
    root = _upload_root()
    if root.is_dir():
        for folder in root.iterdir():
            if folder.stat().st_mtime < time.time() - KEEP_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)


def _save(files: list[UploadedFile]) -> str:
    token = secrets.token_urlsafe(16)
    folder = _upload_root() / token
    folder.mkdir(parents=True)
    for index, upload in enumerate(files):
        name = Path(upload.name or "upload").name
        with (folder / f"{index:02d}-{name}").open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
    return token


def _run(
    request: StaffRequest, token: str, *, dry_run: bool, reset_passwords: bool = False
) -> ImportResult:
    folder = _upload_root() / token
    paths = sorted(folder.iterdir())
    handles = [(path.name[3:], path.open("rb")) for path in paths]
    try:
        return roster_import(
            files=handles, actor=request.user, dry_run=dry_run, reset_passwords=reset_passwords
        )
    finally:
        for _name, handle in handles:
            handle.close()


def _check(request: StaffRequest, context: dict[str, Any]) -> int:
    form = RosterUploadForm(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        return 422
    _forget_old_uploads()
    token = _save(form.cleaned_data["upload"])
    try:
        context["preview"] = _run(request, token, dry_run=True)
        context["rows"] = _rows(context["preview"])
    except ImportRefused as exc:
        shutil.rmtree(_upload_root() / token, ignore_errors=True)
        context["errors"] = exc.errors
        return 422
    request.session[SESSION_KEY] = token
    context["token"] = token
    return 200


def _confirm(request: StaffRequest, context: dict[str, Any]) -> int:
    token = request.session.get(SESSION_KEY)
    if not token or request.POST.get("token") != token or not (_upload_root() / token).is_dir():
        context["expired"] = True
        return 422
    try:
        reset = request.POST.get("reset_passwords") == "on"
        context["result"] = _run(request, token, dry_run=False, reset_passwords=reset)
        context["rows"] = _rows(context["result"])
    except ImportRefused as exc:
        context["errors"] = exc.errors
        return 422
    finally:
        shutil.rmtree(_upload_root() / token, ignore_errors=True)
        request.session.pop(SESSION_KEY, None)
    return 200


@staff_required(*AREA_ROLES)
def roster_upload(request: StaffRequest) -> HttpResponse:
    context: dict[str, Any] = {"form": RosterUploadForm(), "max_mb": MAX_UPLOAD_BYTES >> 20}
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "confirm":
            status = _confirm(request, context)
        else:
            status = _check(request, context)
    response = render(request, "accounts/roster_import.html", context, status=status)
    response["Cache-Control"] = "private, no-store"  # the result shows one-time passwords
    return response
