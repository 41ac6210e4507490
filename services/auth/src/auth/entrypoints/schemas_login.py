"""HTTP shapes of login, sessions and user tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PHONE = "the number, international form (+…)"


class LoginStart(BaseModel):
    """Ask for a code."""

    model_config = ConfigDict(extra="forbid")
    phone: str = Field(max_length=64, description=PHONE)


class CodeSentPublic(BaseModel):
    """A code was sent (the same answer for every valid number)."""

    status: Literal["code_sent"] = "code_sent"
    challenge: str = Field(description="send it back with the code (a keyed hash, not the number)")
    expires_in: int


class LoginVerify(BaseModel):
    """Prove the number: the code, with the challenge handle or the number."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    challenge: str | None = Field(default=None, min_length=1, max_length=128)
    phone: str | None = Field(default=None, max_length=64, description=PHONE)


class SessionPublic(BaseModel):
    """The live session (the cookie itself is never in a body)."""

    user_key: str
    expires_at: float


class UserTokenPublic(BaseModel):
    """A platform user token for the platform's own services (never for third-party apps)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class JwksPublic(BaseModel):
    """The public keys that verify user tokens (RFC 7517)."""

    keys: list[dict[str, str]]


class DevCodeQuery(BaseModel):
    """Development only: which number's last code to read."""

    model_config = ConfigDict(extra="forbid")
    phone: str = Field(max_length=64, description=PHONE)


class DevCodePublic(BaseModel):
    """The last code sent to the number (development only)."""

    code: str
