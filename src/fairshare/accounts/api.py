from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from fairshare.accounts.auth import bearer
from fairshare.accounts.services import token_issue, token_revoke

router = Router(tags=["auth"])


class TokenIn(Schema):
    # No NUL characters: PostgreSQL text cannot hold them (it answered 500; found by fuzzing).
    username: str = Field(min_length=1, max_length=150, pattern=r"^[^\x00]*$")
    password: str = Field(min_length=1, max_length=256, pattern=r"^[^\x00]*$")


class TokenOut(Schema):
    token: str


class Message(Schema):
    detail: str
    code: str | None = None


@router.post("/token", response={200: TokenOut, 401: Message, 429: Message}, auth=None)
def create_token(request: HttpRequest, payload: TokenIn):
    return {
        "token": token_issue(request=request, username=payload.username, password=payload.password)
    }


@router.delete("/token", response={204: None}, auth=bearer)
def revoke_token(request: HttpRequest):
    token_revoke(token=request.api_token, actor=request.user)
    return Status(204, None)
