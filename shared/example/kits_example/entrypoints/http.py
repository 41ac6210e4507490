"""HTTP routes of the example: translate a request, call one handler, map the result."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status

from kits_example.bootstrap import Container
from kits_example.domain.model import NoSuchProfile, ReleaseRefused
from kits_example.entrypoints.schemas import Problem, ProfileCreate, ProfilePublic, ReleaseCreate
from kits_example.service.handlers import ReleaseProfile, SaveProfile
from shared.events.common import Identifier
from shared.kafka.publisher import PublishFailed

router = APIRouter(tags=["profiles"])
TRANSFER_ID = "transfer-id"
UserKey = Annotated[Identifier, Path()]
_RELEASE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "the user has no profile"},
    409: {"model": Problem, "description": "the consent was revoked; nothing released"},
    503: {
        "model": Problem,
        "description": "the transfer record could not be made durable; nothing released",
    },
}


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


Deps = Annotated[Container, Depends(_container)]


@router.put("/profiles/{user_key}", status_code=status.HTTP_204_NO_CONTENT)
async def save_profile(c: Deps, user_key: UserKey, body: ProfileCreate) -> None:
    """Create or replace a user's profile."""
    await c.handlers.save_profile(SaveProfile(user_key=user_key, username=body.username))


@router.post(
    "/profiles/{user_key}/releases",
    response_model=ProfilePublic,
    responses={
        200: {
            "description": "the profile; its transfer record is on `transfer.events`",
            "headers": {TRANSFER_ID: {"description": "the transfer record's `transfer_id`"}},
        },
        **_RELEASE_ERRORS,
    },
)
async def release_profile(c: Deps, user_key: UserKey, body: ReleaseCreate) -> Response:
    """Release the profile to an app: the transfer record is durable first, else 503."""
    try:
        released = await c.handlers.release_profile(_command(body, user_key=user_key))
    except NoSuchProfile as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except ReleaseRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except PublishFailed as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the transfer could not be recorded ({exc}); nothing was released",
            headers={"Retry-After": "5"},
        ) from exc
    # The exact bytes whose digest the record names: not re-serialised on the way out.
    return Response(
        released.body, media_type="application/json", headers={TRANSFER_ID: released.transfer_id}
    )


def _command(body: ReleaseCreate, *, user_key: str) -> ReleaseProfile:
    return ReleaseProfile(
        user_key=user_key,
        app_id=body.app_id,
        pairwise_subject=body.pairwise_subject,
        consent_id=body.consent_id,
        consent_version=body.consent_version,
        terms_version=body.terms_version,
        scopes=body.scopes,
        purpose=body.purpose,
        request_id=body.request_id,
    )
