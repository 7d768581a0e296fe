"""Staff pages of the round life cycle (district and subdistrict staff; docs/rounds.md):
the rounds of the caller's scope, a create/edit form, and a round page with its state,
its actions (open, close, lottery commit/reveal, expiry, carry-over, purge) and the
committee→pharmacy mapping. Irreversible actions (close, reveal, purge) ask for a
confirmation first. The same services as the API (``round_actions``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fairshare.accounts.permissions import AREA_ROLES, may_manage_round
from fairshare.accounts.requests import StaffRequest
from fairshare.accounts.scoping import area_q
from fairshare.accounts.views import staff_required
from fairshare.allocation import round_actions as actions
from fairshare.community.models import Pharmacy, Subdistrict
from fairshare.core.errors import FieldErrors, NotFound, ServiceError
from fairshare.core.forms import Form, form_service_errors, once_per_form
from fairshare.rounds.models import Round
from fairshare.rounds.services import EDITABLE, round_close, round_create, round_open, round_update

area_staff = staff_required(*AREA_ROLES)
CONFIRM = {"close", "reveal", "purge"}  # irreversible: a confirmation step first
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RoundForm(Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=100)
    subdistrict = forms.ModelChoiceField(
        label=gettext_lazy("subdistrict"),
        queryset=Subdistrict.objects.none(),
        required=False,
        empty_label=gettext_lazy("the whole district"),
    )
    registration_opens_at = forms.DateTimeField(
        label=gettext_lazy("registration opens"), widget=DATETIME
    )
    registration_closes_at = forms.DateTimeField(
        label=gettext_lazy("registration closes"), widget=DATETIME
    )
    valid_from = forms.DateField(label=gettext_lazy("purchases from"), widget=DATE)
    valid_until = forms.DateField(label=gettext_lazy("purchases until"), widget=DATE)
    policy = forms.ChoiceField(
        label=gettext_lazy("allocation policy"), choices=Round.Policy.choices
    )
    offline_reserve_pct = forms.IntegerField(
        label=gettext_lazy("offline reserve (%)"), min_value=0, max_value=100, initial=0
    )
    phone_verification = forms.BooleanField(
        label=gettext_lazy("verify phone by SMS code"), required=False
    )
    desk_id_check_required = forms.BooleanField(
        label=gettext_lazy("desk registrations need the ID checked"), required=False
    )
    carry_over_from = forms.ModelChoiceField(
        label=gettext_lazy("carry unserved households over from"),
        queryset=Round.objects.none(),
        required=False,
    )
    carried_first = forms.BooleanField(
        label=gettext_lazy("carried households are drawn before the others"),
        help_text=gettext_lazy("Lottery rounds that carry households over from another round."),
        required=False,
    )

    def __init__(self, *args: Any, user: Any, round: Round | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        subdistricts = Subdistrict.objects.filter(area_q(user, "")).order_by("code")
        earlier = actions.rounds_visible(user)
        choices: dict[str, Any] = {
            "subdistrict": subdistricts,
            "carry_over_from": earlier.exclude(pk=round.pk) if round else earlier,
        }
        for name, queryset in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset
        if round is not None:
            del self.fields["subdistrict"]  # the area never changes
            for name in list(self.fields):
                if name not in EDITABLE[round.status]:
                    self.fields[name].disabled = True


@area_staff
def round_list(request: StaffRequest) -> HttpResponse:
    rounds = list(actions.rounds_visible(request.user))
    return render(request, "rounds/list.html", {"rounds": rounds})


def _values(form: RoundForm) -> dict[str, Any]:
    data = {
        k: v
        for k, v in form.cleaned_data.items()
        if k != "subdistrict" and not form.fields[k].disabled
    }
    if data.get("carry_over_from") is not None:
        data["carry_over_from"] = data["carry_over_from"].pk
    return data


@area_staff
@once_per_form
def round_new(request: StaffRequest) -> HttpResponse:
    form = RoundForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        sub = form.cleaned_data.get("subdistrict")
        try:
            area = actions.area_resolve(
                user=request.user,
                subdistrict=sub.code if sub else None,
                district=None if sub else "",
            )
            values = actions.round_values(
                user=request.user, data=_values(form), district_id=area.district_id
            )
            created = round_create(area=area, values=values, actor=request.user)
        except ServiceError as exc:
            form_service_errors(form, exc)
        else:
            messages.success(request, _("Round created as a draft."))
            return redirect("rounds:detail", round_id=created.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "rounds/form.html", {"form": form, "round": None}, status=status)


def _managed(request: StaffRequest, round_id: int) -> Round:
    try:
        return actions.round_managed(request.user, round_id)
    except NotFound:
        raise Http404 from None


@area_staff
@once_per_form
def round_edit(request: StaffRequest, round_id: int) -> HttpResponse:
    round_ = _managed(request, round_id)
    form = RoundForm(
        request.POST or None, user=request.user, round=round_, initial=_initial(round_)
    )
    if request.method == "POST" and form.is_valid():
        try:
            values = actions.round_values(
                user=request.user, data=_values(form), district_id=round_.district_id
            )
            round_update(round=round_, values=values, actor=request.user)
        except ServiceError as exc:
            form_service_errors(form, exc)
        else:
            messages.success(request, _("Round saved."))
            return redirect("rounds:detail", round_id=round_.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "rounds/form.html", {"form": form, "round": round_}, status=status)


def _initial(round_: Round) -> dict[str, Any]:
    return {name: getattr(round_, name) for name in RoundForm.base_fields if name != "subdistrict"}


@area_staff
def round_detail(request: StaffRequest, round_id: int) -> HttpResponse:
    try:
        round_ = actions.round_visible(request.user, round_id)
    except NotFound:
        raise Http404 from None
    committees = list(actions.committees_of(round_))
    pharmacies = Pharmacy.objects.filter(area_q(request.user)).order_by("code")
    context = {
        "round": round_,
        "manage": may_manage_round(request.user, round_),
        "committees": committees,
        "pharmacies": list(pharmacies),
        "purge": actions.purge_schedule(round_),
    }
    return render(request, "rounds/detail.html", context)


def _runner(request: StaffRequest, round_: Round, action: str) -> Callable[[], Any] | None:
    user = request.user
    seed = request.POST.get("seed", "")[:128].strip() or None
    return {
        "open": lambda: round_open(round=round_, actor=user),
        "close": lambda: round_close(round=round_, actor=user),
        "commit": lambda: actions.action_lottery_commit(user=user, round=round_),
        "reveal": lambda: actions.action_lottery_reveal(user=user, round=round_, seed=seed),
        "expire": lambda: actions.action_expire(round=round_),
        "carry_over": lambda: actions.action_carry_over(user=user, round=round_),
        "purge": lambda: actions.action_purge(user=user, round=round_, dry_run=False),
    }.get(action)


@area_staff
@once_per_form
def round_action(request: StaffRequest, round_id: int, action: str) -> HttpResponse:
    if request.method != "POST":
        return redirect("rounds:detail", round_id=round_id)
    round_ = _managed(request, round_id)
    run = _runner(request, round_, action)
    if run is None:
        raise Http404
    if action in CONFIRM and request.POST.get("confirm") != "yes":
        return render(request, "rounds/confirm.html", {"round": round_, "action": action})
    try:
        run()
    except ServiceError as exc:
        messages.error(request, "; ".join(m for ms in _messages(exc) for m in ms))
        return redirect("rounds:detail", round_id=round_.pk)
    messages.success(request, _("Done."))
    return redirect("rounds:detail", round_id=round_.pk)


def _messages(exc: ServiceError) -> list[list[str]]:
    if isinstance(exc, FieldErrors):
        return [[str(m) for m in ms] for _f, ms in exc.items()]
    return [[str(exc.message)]]


@area_staff
@once_per_form
def round_mapping(request: StaffRequest, round_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("rounds:detail", round_id=round_id)
    round_ = _managed(request, round_id)
    code = request.POST.get("committee", "")[:16]
    if not actions.committees_of(round_).filter(code=code).exists():
        raise Http404
    try:
        actions.committee_mapping_set(
            user=request.user, code=code, pharmacy_code=request.POST.get("pharmacy", "")[:16]
        )
    except ServiceError as exc:
        messages.error(request, "; ".join(m for ms in _messages(exc) for m in ms))
        return redirect("rounds:detail", round_id=round_.pk)
    messages.success(request, _("Serving pharmacy saved."))
    return redirect("rounds:detail", round_id=round_.pk)
