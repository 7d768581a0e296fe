"""The text rule of ``core/schemas.py`` for Django forms (pages and admin).

Every form of the project inherits :class:`TextRuleMixin` (through :class:`Form`, or
directly for Django's own forms such as the login form): each text field refuses
control characters with a per-field error in the user's language; a field whose
widget is a ``Textarea`` may hold line breaks and tabs, any other takes one line.
``TextRuleAdminMixin`` does the same for the admin's model forms.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.http import HttpRequest

from fairshare.core.schemas import MESSAGES, text_problem


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
