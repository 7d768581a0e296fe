from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

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
    staff_account_list,
    staff_places,
)
from fairshare.accounts.services import (
    helper_assign,
    helper_create,
    password_change,
    staff_password_reset,
    staff_set_active,
)
from fairshare.accounts.throttle import challenge_new, challenge_required
from fairshare.core.errors import NotFound, ServiceError
from fairshare.core.forms import Form, form_service_errors


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

    def get_default_redirect_url(self) -> str:
        """Where a login without ``next`` lands: pharmacy staff on their terminal (issue
        15), everyone else on the staff home (LOGIN_REDIRECT_URL)."""
        if getattr(self.request.user, "role", "") == "pharmacy":
            return resolve_url("pharmacy:home")
        return super().get_default_redirect_url()


@staff_required()
def staff_home(request: StaffRequest) -> HttpResponse:
    return render(request, "accounts/home.html", staff_places(user=request.user))


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
                    form_service_errors(create_form, exc)
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
                    form_service_errors(assign_form, exc)
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


class PasswordChangeForm(Form):
    """The current password and the new one twice; the rules for the new one (Django's
    validators, differs from the current) are in ``services.password_change``."""

    old_password = forms.CharField(
        label=gettext_lazy("Current password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        max_length=256,
        strip=False,
    )
    new_password1 = forms.CharField(
        label=gettext_lazy("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=256,
        strip=False,
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=256,
        strip=False,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_old_password(self) -> str:
        value: str = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(gettext_lazy("The current password is wrong."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", gettext_lazy("The two new passwords differ."))
        return data


@staff_required()
def password_change_page(request: StaffRequest) -> HttpResponse:
    """Change the own password; after a login with a one-time password every other page
    leads here (``middleware.AccessExpiryMiddleware``) until it is changed."""
    form = PasswordChangeForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                password_change(
                    user=request.user,
                    new_password=form.cleaned_data["new_password1"],
                    field="new_password1",
                )
            except ServiceError as exc:
                form_service_errors(form, exc)
            else:
                update_session_auth_hash(request, request.user)  # stay signed in
                messages.success(request, _("Your password has been changed."))
                return redirect("accounts:home")
        status = 422
    context = {"form": form, "required": request.user.password_change_required}
    return render(request, "accounts/password_change.html", context, status=status)


def _staff_accounts(request: StaffRequest, **extra: Any) -> HttpResponse:
    context = {"accounts": staff_account_list(user=request.user), **extra}
    response = render(request, "accounts/staff_accounts.html", context)
    response["Cache-Control"] = "private, no-store"  # it may show a one-time password
    return response


@staff_required(*AREA_ROLES)
def staff_accounts(request: StaffRequest) -> HttpResponse:
    """The staff accounts of the user's area: reset a password, deactivate, reactivate."""
    return _staff_accounts(request)


@require_POST
@staff_required(*AREA_ROLES)
def staff_account_action(request: StaffRequest, user_id: int) -> HttpResponse:
    action = request.POST.get("action")
    try:
        if action == "reset":
            account, raw = staff_password_reset(actor=request.user, user_id=user_id)
            return _staff_accounts(request, reset=(account, raw))
        if action not in ("deactivate", "reactivate"):
            return HttpResponse(status=400)
        account = staff_set_active(
            actor=request.user, user_id=user_id, active=action == "reactivate"
        )
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    if account.is_active:
        messages.success(request, _("%(name)s can sign in.") % {"name": account.username})
    else:
        messages.success(request, _("%(name)s is deactivated.") % {"name": account.username})
    return redirect("accounts:staff_accounts")
