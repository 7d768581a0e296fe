"""Staff API: bearer tokens and helper assignments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from pydantic import Field

from fairshare.accounts.auth import bearer
from fairshare.accounts.models import ApiToken, CommitteeAssignment, User
from fairshare.accounts.requests import BearerRequest
from fairshare.accounts.selectors import assignment_list, committees_in_scope, token_list
from fairshare.accounts.services import (
    helper_assign,
    password_change_with_credentials,
    require_area_staff,
    token_issue,
    token_revoke,
    token_revoke_by_id,
)
from fairshare.core.endpoints import Answer, Operation, write_endpoint
from fairshare.core.errors import NotFound
from fairshare.core.schemas import Moment
from fairshare.core.schemas import Schema as InputSchema

router = Router(tags=["auth"])


class TokenIn(InputSchema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=256)
    label: str = Field(default="", max_length=64)


class PasswordChangeIn(InputSchema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class TokenOut(Schema):
    token: str


class TokenInfo(Schema):
    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    current: bool


class Message(Schema):
    detail: str
    code: str | None = None


class FieldMessage(Message):
    errors: dict[str, list[str]] | None = None


class AssignmentIn(InputSchema):
    username: str = Field(min_length=1, max_length=150)
    committee: str = Field(min_length=1, max_length=16)
    expires_at: Moment


class AssignmentOut(Schema):
    id: int
    username: str
    committee: str
    expires_at: datetime
    active: bool


def _when(value: datetime | None) -> str | None:
    """A time as the API's JSON writes it (Django's encoder: milliseconds, "Z" for UTC);
    text, so that an answer can be stored for its Idempotency-Key."""
    return None if value is None else DjangoJSONEncoder().default(value)


def _token_info(token: ApiToken, current_id: int) -> dict[str, Any]:
    return {
        "id": token.pk,
        "label": token.label,
        "created_at": _when(token.created_at),
        "last_used_at": _when(token.last_used_at),
        "revoked_at": _when(token.revoked_at),
        "current": token.pk == current_id,
    }


def _assignment_out(a: CommitteeAssignment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "username": a.user.username,
        "committee": a.committee.code,
        "expires_at": _when(a.expires_at),
        "active": a.active,
    }


# Not a ``write_endpoint``: its answer is a secret, which no Idempotency-Key record may
# hold (only token hashes are stored).
@router.post(
    "/token", response={200: TokenOut, 401: Message, 403: Message, 429: Message}, auth=None
)
def create_token(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    return {
        "token": token_issue(
            request=request,
            username=payload.username,
            password=payload.password,
            label=payload.label,
        )
    }


# Not a ``write_endpoint`` either: no Idempotency-Key record may hold the passwords.
@router.post(
    "/password", response={200: Message, 401: Message, 422: FieldMessage, 429: Message}, auth=None
)
def change_password(request: HttpRequest, payload: PasswordChangeIn) -> dict[str, str]:
    """Change a password with the current one (a one-time password must be changed so
    before a token is issued). A wrong password counts as a failed login."""
    password_change_with_credentials(
        request=request,
        username=payload.username,
        password=payload.password,
        new_password=payload.new_password,
    )
    return {"detail": str(_("Your password has been changed.")), "code": "password_changed"}


@router.delete("/token", response={204: None}, auth=bearer)
@write_endpoint()
def revoke_token(request: BearerRequest) -> Operation:
    def revoke() -> Answer:
        token_revoke(token=request.api_token, actor=request.user)
        return 204, None

    return revoke


@router.get("/tokens", response=list[TokenInfo], auth=bearer)
def list_tokens(request: BearerRequest) -> list[dict[str, Any]]:
    """The caller's own tokens (never the token text, which is not stored)."""
    return [_token_info(t, request.api_token.pk) for t in token_list(user=request.user)]


@router.delete("/tokens/{token_id}", response={200: TokenInfo, 404: Message}, auth=bearer)
@write_endpoint()
def revoke_token_by_id(request: BearerRequest, token_id: int) -> Operation:
    def revoke() -> Answer:
        token = token_revoke_by_id(actor=request.user, token_id=token_id)
        return 200, _token_info(token, request.api_token.pk)

    return revoke


@router.get("/helpers/assignments", response=list[AssignmentOut], auth=bearer)
def list_assignments(request: BearerRequest) -> list[dict[str, Any]]:
    """Helper assignments to committees of the caller's area (district and subdistrict staff)."""
    require_area_staff(request.user)
    return [_assignment_out(a) for a in assignment_list(user=request.user)]


@router.post(
    "/helpers/assignments",
    response={201: AssignmentOut, 403: Message, 404: Message},
    auth=bearer,
)
@write_endpoint()
def create_assignment(request: BearerRequest, payload: AssignmentIn) -> Operation:
    committee = committees_in_scope(user=request.user).filter(code=payload.committee).first()
    if committee is None:
        raise NotFound(_("Unknown committee."), code="unknown_committee")
    helper = User.objects.filter(username=payload.username).first()

    def assign() -> Answer:
        assignment = helper_assign(
            actor=request.user,
            # None (no such user) is refused by the service itself, after its scope checks.
            user=helper,
            committee=committee,
            expires_at=payload.expires_at,
        )
        return 201, _assignment_out(assignment)

    return assign
