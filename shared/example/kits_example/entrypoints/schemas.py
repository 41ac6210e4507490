"""HTTP shapes: what a request may carry (`…Create`) and what a response holds (`…Public`).

Field types are the wire contracts' own, so a request the transfer record would refuse is a
422 here, never a 500 later: `Identifier` refuses anything phone-shaped.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.events.common import Identifier, Scopes, TermsVersion


class ProfileCreate(BaseModel):
    """A user's profile as they set it."""

    model_config = ConfigDict(extra="forbid")

    username: Identifier


class ReleaseCreate(BaseModel):
    """A request to release a profile to an app (in a real service: from the access token)."""

    model_config = ConfigDict(extra="forbid")

    app_id: Identifier
    pairwise_subject: Identifier
    consent_id: Identifier
    consent_version: int = Field(ge=1, le=2**31 - 1)
    terms_version: TermsVersion
    scopes: Scopes
    purpose: str = Field(min_length=1, max_length=200)
    request_id: Identifier


class ProfilePublic(BaseModel):
    """A profile as an app receives it: the exact bytes whose digest the transfer record names."""

    open_id: str
    username: str


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str
