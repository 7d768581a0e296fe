from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from fairshare.accounts.forms import (
    AuditFilterForm,
    HelperAssignForm,
    HelperCreateForm,
    StaffLoginForm,
)
from fairshare.accounts.permissions import AREA_ROLES, has_access, has_role
from fairshare.accounts.requests import StaffRequest
from fairshare.accounts.selectors import (
    assignment_list,
    audit_entries,
    committees_in_scope,
    helper_list,
    staff_places,
)
from fairshare.accounts.services import helper_assign, helper_create
from fairshare.accounts.throttle import challenge_new, challenge_required
from fairshare.core.errors import FieldErrors, ServiceError


def staff_required(*roles: str) -> Callable:
    """Pages for staff: anonymous (or expired) → login redirect; other roles → 403."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not (has_role(user, *roles) if roles else has_access(user)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class StaffLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = StaffLoginForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context.get("form")
        context["access_expired"] = bool(form and form.has_error("__all__", "access_expired"))
        context["challenge_failed"] = bool(form and form.has_error("__all__", "challenge"))
        if challenge_required(self.request):
            context["challenge_image"] = challenge_new(self.request)
        return context


@staff_required()
def staff_home(request: StaffRequest) -> HttpResponse:
    return render(request, "accounts/home.html", staff_places(user=request.user))


def _apply_errors(form: forms.Form, exc: ServiceError) -> None:
    if isinstance(exc, FieldErrors):
        for field, msgs in exc.items():
            for msg in msgs:
                form.add_error(field if field in form.fields else None, str(msg))
    else:
        form.add_error(None, str(exc.message))


@staff_required(*AREA_ROLES)
def helpers(request: StaffRequest) -> HttpResponse:
    committees = committees_in_scope(user=request.user)
    helper_qs = helper_list(user=request.user)
    create_form = HelperCreateForm(committees=committees, prefix="new")
    assign_form = HelperAssignForm(committees=committees, helpers=helper_qs, prefix="assign")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            create_form = HelperCreateForm(request.POST, committees=committees, prefix="new")
            if create_form.is_valid():
                data = create_form.cleaned_data
                try:
                    user = helper_create(
                        actor=request.user,
                        username=data["username"],
                        password=data["password"],
                        committee=data["committee"],
                        expires_at=data["expires_at"],
                    )
                except ServiceError as exc:
                    _apply_errors(create_form, exc)
                else:
                    messages.success(request, _("Helper %(name)s created.") % {"name": user})
                    return redirect("accounts:helpers")
        elif action == "assign":
            assign_form = HelperAssignForm(
                request.POST, committees=committees, helpers=helper_qs, prefix="assign"
            )
            if assign_form.is_valid():
                data = assign_form.cleaned_data
                try:
                    helper_assign(
                        actor=request.user,
                        user=data["helper"],
                        committee=data["committee"],
                        expires_at=data["expires_at"],
                    )
                except ServiceError as exc:
                    _apply_errors(assign_form, exc)
                else:
                    messages.success(request, _("Assignment saved."))
                    return redirect("accounts:helpers")
        else:
            return HttpResponse(status=400)
        status = 422  # the form is shown again with its errors
    else:
        status = 200
    context = {
        "helpers": helper_qs,
        "assignments": assignment_list(user=request.user),
        "create_form": create_form,
        "assign_form": assign_form,
    }
    return render(request, "accounts/helpers.html", context, status=status)


@staff_required()
def audit_log(request: StaffRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = audit_entries(user=request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )
