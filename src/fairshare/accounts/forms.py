from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import has_access
from fairshare.accounts.throttle import challenge_check, challenge_required
from fairshare.community.models import Committee
from fairshare.core.forms import Form, TextRuleMixin


class StaffLoginForm(TextRuleMixin, AuthenticationForm):
    """Refuses accounts whose access has expired (helpers past their end date).

    From an address with many failed logins (accounts/throttle.py) it also asks for the
    digits of a picture, checked before the password: a wrong answer is no failed login.
    """

    challenge = forms.CharField(label=_("Digits in the picture"), required=False, max_length=16)

    def clean(self) -> dict[str, Any]:
        request = self.request
        if (
            request is not None
            and challenge_required(request)
            and not challenge_check(request, self.cleaned_data.get("challenge", ""))
        ):
            raise forms.ValidationError(
                _(
                    "Many failed logins came from your network; type the digits in the "
                    "picture as well."
                ),
                code="challenge",
            )
        return super().clean()

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not has_access(user):
            raise forms.ValidationError(
                _("This account's access has expired."), code="access_expired"
            )


class _CommitteeChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Committee) -> str:
        return f"{obj.code} {obj.name}"


class HelperCreateForm(Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=256)
    committee = _CommitteeChoice(label=_("Committee"), queryset=None)
    expires_at = forms.DateTimeField(
        label=_("Access until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args: Any, committees: QuerySet[Committee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["committee"]).queryset = committees


class HelperAssignForm(Form):
    helper: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label=_("Helper"), queryset=User.objects.none()
    )
    committee = _CommitteeChoice(label=_("Committee"), queryset=None)
    expires_at = forms.DateTimeField(
        label=_("Assignment until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(
        self, *args: Any, committees: QuerySet[Committee], helpers: QuerySet[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["committee"]).queryset = committees
        cast(forms.ModelChoiceField, self.fields["helper"]).queryset = helpers


class AuditFilterForm(Form):
    action = forms.CharField(label=_("Action"), required=False, max_length=64)
    actor = forms.CharField(label=_("Username"), required=False, max_length=150)
    committee = forms.CharField(label=_("Committee code"), required=False, max_length=16)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
