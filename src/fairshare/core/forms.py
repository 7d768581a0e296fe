"""The text rule of ``core/schemas.py`` for Django forms (pages and admin).

Every form of the project inherits :class:`TextRuleMixin` (through :class:`Form`, or
directly for Django's own forms such as the login form): each text field refuses
control characters with a per-field error in the user's language; a field whose
widget is a ``Textarea`` may hold line breaks and tabs, any other takes one line.
``TextRuleAdminMixin`` does the same for the admin's model forms.

Pages that read ``request.POST`` without a form apply the same rule through
:func:`posted_text_errors` (every posted value, per field), and parse posted ids with
:func:`parse_id` (a bad id is no object, never a 500).

Staff write forms are rush-proof through one helper: the form carries a one-time token
(``{% form_token %}`` of ``core/templatetags/form_tags.py``) and its view is wrapped in
:func:`once_per_form`. A second submission of the same token (a double click, a
reload of the POST, the back button) changes nothing: it is redirected to the page
(POST-redirect-GET) with a notice. The token is spent in the shared cache with an
atomic ``add``, so two nodes cannot both accept it. A POST without a token (scripts,
older pages) is served as before; the API has Idempotency-Key instead.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Collection, Mapping
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages as flash
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from fairshare.core.errors import FieldErrors, ServiceError
from fairshare.core.schemas import MESSAGES, text_problem

# The largest id a database key column holds (bigint); a larger one would overflow the driver.
MAX_ID = 2**63 - 1
GENERAL = "general"
FORM_TOKEN = "form_token"
FORM_TOKEN_SECONDS = 24 * 3600  # a spent token is remembered this long
ALREADY_SENT = _("This form was already sent; it was not applied a second time.")
log = logging.getLogger(__name__)


class TextRuleValidator:
    """A field validator: refuses what :func:`text_problem` refuses."""

    def __init__(self, *, multiline: bool) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        if isinstance(value, str):
            problem = text_problem(value, multiline=self.multiline)
            if problem is not None:
                raise ValidationError(MESSAGES[problem], code=problem)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextRuleValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash((TextRuleValidator, self.multiline))


def apply_text_rule(field: forms.Field) -> None:
    """Add the rule to a text field (once); other fields parse their input themselves."""
    if not isinstance(field, forms.CharField):
        return
    validator = TextRuleValidator(multiline=isinstance(field.widget, forms.Textarea))
    if validator not in field.validators:
        # Django's own NUL check is part of the rule: one message, not two.
        field.validators[:] = [
            v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]
        field.validators.append(validator)


class TextRuleMixin:
    """Put first in a form's bases: every text field gets the rule."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            apply_text_rule(field)


class Form(TextRuleMixin, forms.Form):
    """The base of the project's forms."""


class TextRuleAdminMixin:
    """For ModelAdmin classes: the rule on every text field of the admin's forms."""

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        field: forms.Field | None = super().formfield_for_dbfield(  # type: ignore[misc]
            db_field, request, **kwargs
        )
        if field is not None:
            apply_text_rule(field)
        return field


def posted_text_errors(
    data: QueryDict | Mapping[str, str],
    *,
    fields: Collection[str] = (),
    multiline: Collection[str] = (),
) -> FieldErrors:
    """The text rule over every posted value, as per-field errors (empty when all pass).

    Every field is checked, listed or not, so a page cannot forget one. Fields named in
    ``multiline`` may hold line breaks and tabs, any other takes one line. An error is
    filed under the field's name when the page shows errors next to it (``fields`` or
    ``multiline``), else (hidden inputs, buttons, choices) under ``"general"``.
    """
    errors = FieldErrors()
    items = data.lists() if isinstance(data, QueryDict) else ((k, [v]) for k, v in data.items())
    for name, values in items:
        for value in values:
            problem = text_problem(value, multiline=name in multiline)
            if problem is None:
                problem = text_problem(name)
            if problem is not None:
                key = name if name in fields or name in multiline else GENERAL
                if MESSAGES[problem] not in errors.errors.get(key, []):
                    errors.add(key, MESSAGES[problem])
                break
    return errors


def posted_text_check(
    data: QueryDict | Mapping[str, str],
    *,
    fields: Collection[str] = (),
    multiline: Collection[str] = (),
) -> None:
    """Raise :func:`posted_text_errors` when there are any (a page answers them with 422)."""
    errors = posted_text_errors(data, fields=fields, multiline=multiline)
    if errors:
        raise errors


def parse_id(value: Any) -> int | None:
    """A posted id as a positive int a key column can hold, else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def form_service_errors(form: forms.Form, exc: ServiceError) -> None:
    """A service's refusal shown on a Django form: per field where the form has the field,
    at the top otherwise."""
    if isinstance(exc, FieldErrors):
        for field, messages in exc.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, str(message))
    else:
        form.add_error(None, str(exc.message))


# --- one-time form tokens (rush-proof staff forms) --------------------------------------


def form_token_new() -> str:
    """A fresh one-time token for a form (``{% form_token %}`` renders it)."""
    return secrets.token_urlsafe(18)


def form_token_spend(request: HttpRequest) -> bool:
    """Spend the posted token: False when it was spent before (a second submission).
    No token: True (served as before). The shared cache down: True (fail open, logged;
    the services' own checks still refuse what cannot be done twice)."""
    token = request.POST.get(FORM_TOKEN, "")
    if not token:
        return True
    digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
    try:
        return bool(cache.add(f"form-token:{digest}", 1, timeout=FORM_TOKEN_SECONDS))
    except Exception:
        log.warning("form token cache unavailable; the form is served without the check")
        return True


def once_per_form(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A staff write view that applies each form submission once (see the module doc)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST" and not form_token_spend(request):
            flash.info(request, str(ALREADY_SENT))
            back = request.META.get("HTTP_REFERER", "")
            safe = url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            return redirect(back if safe else request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
