"""HTTP routes of the audit service: translate a request, call one handler, map the result."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status

from audit.bootstrap import Container
from audit.entrypoints.schemas import (
    AccessReportPublic,
    CheckpointPublic,
    ConsistencyPublic,
    InclusionPublic,
    KeyPublic,
    KeysPublic,
    Problem,
)
from audit.service.proofs import AUDITOR, NotCovered, NotFound, Reader, checkpoint_json
from audit.service.reports import access_report
from audit.verify.checkpoint import key_id
from audit.verify.encoding import b64encode
from shared.user_tokens import InvalidUserToken, KeysUnavailable

router = APIRouter()
Checkpoint = Annotated[str | None, Query(max_length=100, pattern=r"^[0-9a-f]{1,64}$")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "no such entry, checkpoint or shard"},
    409: {
        "model": Problem,
        "description": "not covered by that checkpoint yet; ask for a later one",
    },
}


async def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


Deps = Annotated[Container, Depends(_container)]


def _problem(exc: Exception) -> HTTPException:
    code = status.HTTP_404_NOT_FOUND if isinstance(exc, NotFound) else status.HTTP_409_CONFLICT
    return HTTPException(status_code=code, detail=str(exc))


@router.get("/ledger/keys", tags=["ledger"])
async def keys(c: Deps) -> KeysPublic:
    """Every Ed25519 public key a stored checkpoint may be signed with (raw 32 bytes, base64):
    the current one, which signs new checkpoints, and the retired ones still needed."""
    current = key_id(c.public_key)
    return KeysPublic(
        keys=[
            KeyPublic(
                key_id=kid,
                algorithm="Ed25519",
                public_key=b64encode(_raw(key)),
                status="current" if kid == current else "retired",
            )
            for kid, key in c.public_keys().items()
        ]
    )


@router.get("/ledger/checkpoints/latest", tags=["ledger"], responses=_ERRORS)
async def latest_checkpoint(c: Deps) -> CheckpointPublic:
    """The newest signed checkpoint over every shard."""
    try:
        return CheckpointPublic.model_validate(checkpoint_json(await c.proofs.checkpoint(None)))
    except NotFound as exc:
        raise _problem(exc) from exc


@router.get("/ledger/checkpoints/{checkpoint_id}", tags=["ledger"], responses=_ERRORS)
async def checkpoint(c: Deps, checkpoint_id: str) -> CheckpointPublic:
    """One signed checkpoint by id."""
    try:
        stored = await c.proofs.checkpoint(checkpoint_id)
        return CheckpointPublic.model_validate(checkpoint_json(stored))
    except NotFound as exc:
        raise _problem(exc) from exc


_CHALLENGE = {"WWW-Authenticate": {"schema": {"type": "string"}}}
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": Problem,
        "description": "no Bearer token, or one that is malformed, expired, not signed by auth or "
        "not for this service; also any user token where no user-token keys are configured",
        "headers": _CHALLENGE,
    },
    503: {
        "model": Problem,
        "description": "a well-formed user token, but auth's keys could not be fetched yet",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}


def _unauthorized(detail: str, *, challenge: str = "Bearer") -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge}
    )


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("a Bearer token is required")
    return token.strip()


async def _user_key(c: Container, token: str) -> str:
    """The user a session token names: 401 for any bad token, 503 only while keys are missing."""
    if c.tokens is None:  # no keys configured: this deployment accepts no user tokens
        raise _unauthorized(
            "user tokens are not accepted here", challenge='Bearer error="invalid_token"'
        )
    try:
        return await c.tokens.user_key(token)
    except InvalidUserToken as exc:
        raise _unauthorized(str(exc), challenge='Bearer error="invalid_token"') from exc
    except KeysUnavailable as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            str(exc),
            headers={"Retry-After": str(exc.retry_after_s)},
        ) from exc


async def _reader(c: Deps, authorization: Annotated[str | None, Header()] = None) -> Reader:
    """An auditor (by the digest of their token) or the user a session token names."""
    token = _bearer(authorization)
    digest = hashlib.sha256(token.encode()).hexdigest()
    if any(hmac.compare_digest(digest, known) for known in c.settings.auditor_digests):
        return AUDITOR
    return Reader(user_key=await _user_key(c, token))


@router.get(
    "/ledger/entries/{event_id}",
    tags=["ledger"],
    responses={**_ERRORS, **_AUTH_ERRORS},
)
async def inclusion(
    c: Deps,
    reader: Annotated[Reader, Depends(_reader)],
    event_id: str,
    checkpoint_id: Checkpoint = None,
    subject: Annotated[str | None, Query(max_length=200)] = None,
) -> InclusionPublic:
    """An entry with its inclusion proof against a checkpoint (default: the latest); giving
    the event's subject (its Kafka key) narrows the search to one partition's shards. An
    auditor reads every entry; a user, with their session token, the entries about them (any
    other is not found)."""
    partition = c.progress.partition(subject) if subject else None
    try:
        found = await c.proofs.inclusion(
            event_id, checkpoint_id=checkpoint_id, partition=partition, reader=reader
        )
    except (NotFound, NotCovered) as exc:
        raise _problem(exc) from exc
    return InclusionPublic.model_validate(found)


@router.get("/ledger/consistency", tags=["ledger"], responses=_ERRORS)
async def consistency(
    c: Deps,
    old: Annotated[str, Query(max_length=64, pattern=r"^[0-9a-f]{1,64}$")],
    new: Annotated[str, Query(max_length=64, pattern=r"^[0-9a-f]{1,64}$")],
    shard: Annotated[str, Query(max_length=200, pattern=r"^[!-~]+$")],
) -> ConsistencyPublic:
    """A consistency proof for one shard between two checkpoints."""
    try:
        found = await c.proofs.consistency(old_id=old, new_id=new, shard=shard)
    except (NotFound, NotCovered) as exc:
        raise _problem(exc) from exc
    return ConsistencyPublic.model_validate(found)


@router.get(
    "/reports/me",
    tags=["reports"],
    responses=_AUTH_ERRORS,
)
async def my_access_report(
    c: Deps, authorization: Annotated[str | None, Header()] = None
) -> AccessReportPublic:
    """Every transfer of the caller's data, with the verdict; only the user may read it."""
    user_key = await _user_key(c, _bearer(authorization))
    return AccessReportPublic.model_validate(await access_report(c.facts, user_key=user_key))


def _raw(key: Ed25519PublicKey) -> bytes:
    raw: bytes = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw
