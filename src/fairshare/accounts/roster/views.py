"""The roster upload page of subdistrict (and district) staff: upload → check (a dry run
in the background, its progress on the job's page, then its counts or its errors) →
confirm (the real import of the same stored files, again a background job). The
import's page shows the new accounts' one-time passwords once, to the uploader, within
an hour; then they are blanked in the job's row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.permissions import AREA_ROLES
from fairshare.accounts.requests import StaffRequest
from fairshare.accounts.roster.jobs import KIND, open_passwords
from fairshare.accounts.roster.staging import staged_exists, staged_forget_old, staged_save
from fairshare.accounts.views import staff_required
from fairshare.core.jobs import job_create, job_status
from fairshare.core.models import Job

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # all files of one import together
PASSWORDS_KEEP_SECONDS = 3600  # one-time passwords not viewed within an hour are blanked
SESSION_KEY = "roster_import"
# A context: "Households" elsewhere is a count (户数), here the roster's sheet (住户).
LABELS = {
    "subdistricts": pgettext_lazy("roster sheet", "Subdistricts"),
    "pharmacies": pgettext_lazy("roster sheet", "Pharmacies"),
    "committees": pgettext_lazy("roster sheet", "Committees"),
    "households": pgettext_lazy("roster sheet", "Households"),
    "staff": pgettext_lazy("roster sheet", "Staff accounts"),
}


STAGES = {
    "reading": _("Reading the files"),
    "checking": _("Checking the rows"),
    "places": _("Writing the places"),
    "households": _("Writing the households"),
    "staff": _("Writing the staff accounts"),
}


def _rows(counts: dict[str, dict[str, int]]) -> list[tuple[object, dict[str, int]]]:
    return [(LABELS.get(kind, kind), tally) for kind, tally in counts.items()]


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


def _start(
    request: StaffRequest, folder: str, *, dry_run: bool, reset_passwords: bool = False
) -> HttpResponse:
    params = {
        "folder": folder,
        "dry_run": dry_run,
        "reset_passwords": reset_passwords,
        "language": get_language(),
    }
    job = job_create(kind=KIND, params=params, created_by=request.user)
    return redirect("accounts:roster_job", job_id=job.pk)


def _check(request: StaffRequest, context: dict[str, Any]) -> HttpResponse | None:
    """Store the upload and queue its check (a dry run); the form again when invalid."""
    form = RosterUploadForm(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        return None
    staged_forget_old(KIND)
    return _start(request, staged_save(form.cleaned_data["upload"]), dry_run=True)


def _own_job(request: StaffRequest, job_id: object) -> Job | None:
    try:
        pk = int(str(job_id))
    except ValueError:
        return None
    return Job.objects.filter(pk=pk, kind=KIND, created_by=request.user).first()


def _confirm(request: StaffRequest, context: dict[str, Any]) -> HttpResponse | None:
    """Queue the real import of a checked upload (the same stored files)."""
    checked = _own_job(request, request.POST.get("job"))
    folder = str(checked.params.get("folder", "")) if checked else ""
    if (
        checked is None
        or checked.state != Job.State.DONE
        or not checked.params.get("dry_run")
        or not folder
        or not staged_exists(folder)
    ):
        context["expired"] = True
        return None
    reset = request.POST.get("reset_passwords") == "on"
    return _start(request, folder, dry_run=False, reset_passwords=reset)


@staff_required(*AREA_ROLES)
def roster_upload(request: StaffRequest) -> HttpResponse:
    context: dict[str, Any] = {"form": RosterUploadForm(), "max_mb": MAX_UPLOAD_BYTES >> 20}
    if request.method == "POST":
        action = _confirm if request.POST.get("action") == "confirm" else _check
        response = action(request, context)
        if response is not None:
            return response
        return render(request, "accounts/roster_import.html", context, status=422)
    return render(request, "accounts/roster_import.html", context)


def _passwords_once(job: Job) -> list[list[str]]:
    """The one-time passwords of the import's new accounts, decrypted: on the first view
    within the hour only. Any view blanks them in the row (the conditional update makes
    two simultaneous views show them at most once)."""
    result = job.result or {}
    sealed = result.get("passwords") or ""
    if not sealed:
        return []
    taken = Job.objects.filter(pk=job.pk, result__passwords=sealed).update(
        result={**result, "passwords": ""}
    )
    fresh = job.created_at >= timezone.now() - timedelta(seconds=PASSWORDS_KEEP_SECONDS)
    return open_passwords(job, sealed) if taken and fresh else []


@staff_required(*AREA_ROLES)
def roster_job(request: StaffRequest, job_id: int) -> HttpResponse:
    """A queued or running import's progress (the page reloads itself), then its counts
    or its per-row errors; a finished check offers the real import."""
    job = _own_job(request, job_id)
    if job is None:
        raise Http404
    status = job_status(job)
    result = job.result or {}
    context: dict[str, Any] = {
        "job": job,
        "status": status,
        "stage": STAGES.get(status["stage"], status["stage"]),
        "dry_run": bool(job.params.get("dry_run")),
        "max_mb": MAX_UPLOAD_BYTES >> 20,
        "errors": result.get("errors") if job.state == Job.State.FAILED else None,
        "overflow": result.get("overflow", 0),
        "error_count": len(result.get("errors") or []) + int(result.get("overflow") or 0),
    }
    if job.state == Job.State.DONE:
        context["rows"] = _rows(result.get("counts") or {})
        context["passwords"] = _passwords_once(job)
    response = render(request, "accounts/roster_job.html", context)
    response["Cache-Control"] = "private, no-store"  # it may show one-time passwords
    return response


@staff_required(*AREA_ROLES)
def roster_job_status(request: StaffRequest, job_id: int) -> JsonResponse:
    """The job's state and progress as JSON, for polling."""
    job = _own_job(request, job_id)
    if job is None:
        return JsonResponse({"detail": str(_("Not found."))}, status=404)
    return JsonResponse(job_status(job))
