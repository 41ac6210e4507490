"""Field types reused by several contracts (wire shapes only, no business rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from shared.events.envelope import Identifier

Scope = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.:]{0,63}$")]
Scopes = Annotated[tuple[Scope, ...], Field(max_length=50)]
TermsVersion = Annotated[str, Field(min_length=1, max_length=64)]
Recipient = Annotated[str, Field(min_length=1, max_length=200)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
RetentionDays = Annotated[int, Field(ge=0, le=36500)]
Url = Annotated[str, Field(min_length=1, max_length=2000)]
Timestamp = datetime

__all__ = [
    "Identifier",
    "Recipient",
    "RetentionDays",
    "Scope",
    "Scopes",
    "Sha256Hex",
    "TermsVersion",
    "Timestamp",
    "Url",
]
