"""The rules of an authorization request (RFC 6749 4.1, RFC 7636, RFC 9700, RFC 9207): pure.

Two kinds of refusal, in this order (RFC 6749 4.1.2.1):
- `ClientRefused`: the client or its redirect URI cannot be trusted (unknown client, missing,
  repeated or unregistered `redirect_uri`); the user gets an error page, never a redirect,
  so an attacker cannot use the endpoint as an open redirector.
- `RequestRefused`: everything else; the client gets an error redirect to its (exact,
  registered) redirect URI with `error`, `error_description`, `state` and `iss`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from auth.domain.scopes import SCOPES

OPENID = "openid"  # a protocol scope (OIDC), never a consent scope
MAX_VALUE_CHARS = 2000
MAX_STATE_CHARS = 1024
MAX_NONCE_CHARS = 255
MAX_SCOPES = 20
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # BASE64URL(SHA-256(verifier)), no padding
_SCOPE_SHAPE = re.compile(r"^[a-z][a-z0-9_.:]{0,63}$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")
_PROMPTS = frozenset({"none", "login", "consent", "select_account"})


class ClientRefused(ValueError):
    """The client or redirect URI is not trusted: an error page (400), never a redirect."""


class RequestRefused(ValueError):
    """An RFC 6749 4.1.2.1 error, sent back to the client's redirect URI."""

    def __init__(self, error: str, description: str, *, state: str | None) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.state = error, description, state


@dataclass(frozen=True, slots=True)
class ClientPart:
    """The client and where it wants the answer, before anything else is read."""

    client_id: str
    redirect_uri: str


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    """A valid authorization request for one registered app."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]  # sorted, distinct; may include `openid`
    state: str | None
    code_challenge: str  # S256
    nonce: str | None
    prompt: frozenset[str]

    @property
    def consent_scopes(self) -> tuple[str, ...]:
        """The scopes a consent covers (the protocol scope `openid` is not one)."""
        return tuple(s for s in self.scopes if s != OPENID)


Params = Sequence[tuple[str, str]]
Refuse = Callable[[str, str], RequestRefused]


def single_values(params: Params) -> tuple[dict[str, str], frozenset[str]]:
    """The parameters by name, and the names given more than once (RFC 6749 3.1: each at
    most once; an empty value counts as absent)."""
    values: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in params:
        if not value:
            continue
        if name in values:
            repeated.add(name)
        values[name] = value
    return values, frozenset(repeated)


def client_part(params: Params) -> ClientPart:
    """`client_id` (or the alias `client_key`) and `redirect_uri`, or ClientRefused."""
    values, repeated = single_values(params)
    if {"client_id", "client_key", "redirect_uri"} & repeated:
        raise ClientRefused("client_id and redirect_uri may each be given only once")
    given = {values[n] for n in ("client_id", "client_key") if n in values}
    if not given:
        raise ClientRefused("the request names no client (client_id)")
    if len(given) > 1:
        raise ClientRefused("client_id and client_key name different clients")
    client_id = given.pop()
    if len(client_id) > 200 or not _PRINTABLE.match(client_id):
        raise ClientRefused("this client is not registered")
    redirect_uri = values.get("redirect_uri")
    if redirect_uri is None:
        # No default, even for an app with one registered URI (RFC 9700 2.1).
        raise ClientRefused("the request must name its redirect_uri")
    return ClientPart(client_id=client_id, redirect_uri=redirect_uri)


def check_redirect_uri(given: str, *, registered: Iterable[str]) -> str:
    """`given` if it is one of the app's registered URIs character for character: no prefix,
    no added query or fragment, no case or trailing-slash change (RFC 9700 2.1)."""
    if given not in tuple(registered):
        raise ClientRefused("this redirect_uri is not registered for the app")
    return given


def parse_request(
    params: Params, *, client: ClientPart, allowed_scopes: Iterable[str]
) -> AuthorizeRequest:
    """The whole request checked against the app; RequestRefused (to redirect) otherwise."""
    values, repeated = single_values(params)
    state = values.get("state")
    if state is not None and (len(state) > MAX_STATE_CHARS or not _PRINTABLE.match(state)):
        raise RequestRefused(
            "invalid_request", f"state must be printable and at most {MAX_STATE_CHARS}", state=None
        )

    def refuse(error: str, description: str) -> RequestRefused:
        return RequestRefused(error, description, state=state)

    if repeated:
        raise refuse("invalid_request", f"repeated parameter: {sorted(repeated)[0]}")
    if any(len(v) > MAX_VALUE_CHARS for v in values.values()):
        raise refuse("invalid_request", f"a parameter is longer than {MAX_VALUE_CHARS}")
    _check_response(values, refuse)
    scopes = _scopes(values.get("scope", ""), allowed=frozenset(allowed_scopes), refuse=refuse)
    challenge = _code_challenge(values, refuse)
    nonce = values.get("nonce")
    if nonce is not None and (len(nonce) > MAX_NONCE_CHARS or not _PRINTABLE.match(nonce)):
        raise refuse("invalid_request", f"nonce must be printable and at most {MAX_NONCE_CHARS}")
    prompt = frozenset(values.get("prompt", "").split())
    if not prompt <= _PROMPTS or ("none" in prompt and len(prompt) > 1):
        raise refuse("invalid_request", "prompt must be none, or any of login consent")
    return AuthorizeRequest(
        client_id=client.client_id,
        redirect_uri=client.redirect_uri,
        scopes=scopes,
        state=state,
        code_challenge=challenge,
        nonce=nonce,
        prompt=prompt,
    )


def _check_response(values: dict[str, str], refuse: Refuse) -> None:
    if "request" in values:
        raise refuse("request_not_supported", "request objects are not supported")
    if "request_uri" in values:
        raise refuse("request_uri_not_supported", "request_uri is not supported")
    response_type = values.get("response_type")
    if response_type is None:
        raise refuse("invalid_request", "response_type is required (code)")
    if response_type != "code":
        # Only the authorization code flow: no implicit (`token`) nor hybrid responses.
        raise refuse("unsupported_response_type", "only response_type=code is supported")
    if values.get("response_mode", "query") != "query":
        raise refuse("invalid_request", "only response_mode=query is supported")


def split_scopes(value: str) -> list[str]:
    """Scope names separated by spaces (RFC 6749 3.3) or commas (the big platforms' shape)."""
    return [name for name in re.split(r"[ ,]+", value) if name]


def _scopes(value: str, *, allowed: frozenset[str], refuse: Refuse) -> tuple[str, ...]:
    names = split_scopes(value)
    if not names:
        raise refuse("invalid_scope", "name at least one scope (space separated)")
    if len(names) > MAX_SCOPES:
        raise refuse("invalid_scope", f"at most {MAX_SCOPES} scopes")
    unknown = [n for n in names if n != OPENID and n not in SCOPES]
    if unknown:
        raise refuse("invalid_scope", f"unknown scope: {_named(unknown)}")
    unregistered = [n for n in names if n != OPENID and n not in allowed]
    if unregistered:
        raise refuse("invalid_scope", f"scope not registered for this app: {_named(unregistered)}")
    scopes = tuple(sorted(set(names)))
    if scopes == (OPENID,):
        raise refuse("invalid_scope", "ask for at least one data scope besides openid")
    return scopes


def _named(names: list[str]) -> str:
    # Named back only when shaped like a scope: anything else is counted, never echoed.
    shaped = [n for n in names if _SCOPE_SHAPE.match(n)]
    others = len(names) - len(shaped)
    return ", ".join(shaped[:5] + ([f"{others} malformed"] if others else []))


def _code_challenge(values: dict[str, str], refuse: Refuse) -> str:
    method = values.get("code_challenge_method")
    challenge = values.get("code_challenge")
    if challenge is None:
        raise refuse("invalid_request", "PKCE is required: send code_challenge (S256)")
    if method is None:
        # RFC 7636 4.3 would default to `plain`; this server accepts S256 only.
        raise refuse("invalid_request", "code_challenge_method=S256 is required")
    if method != "S256":
        raise refuse("invalid_request", "code_challenge_method must be S256 (plain is refused)")
    if not _CHALLENGE.match(challenge) or not _canonical(challenge):
        raise refuse("invalid_request", "code_challenge must be BASE64URL(SHA-256), 43 chars")
    return challenge


def _canonical(challenge: str) -> bool:
    """Whether the 43 characters are the one encoding of 32 bytes (unused bits zero)."""
    raw = base64.urlsafe_b64decode(challenge + "=")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == challenge


def with_query(uri: str, params: dict[str, str | None]) -> str:
    """`uri` with the parameters appended to its query (kept as registered, RFC 6749 3.1.2)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def error_redirect(request_uri: str, refused: RequestRefused, *, issuer: str) -> str:
    """The RFC 6749 4.1.2.1 error response, with `iss` (RFC 9207)."""
    return with_query(
        request_uri,
        {
            "error": refused.error,
            "error_description": refused.description,
            "state": refused.state,
            "iss": issuer,
        },
    )


def code_redirect(request: AuthorizeRequest, *, code: str, issuer: str) -> str:
    """The RFC 6749 4.1.2 success response, with `iss` (RFC 9207)."""
    return with_query(request.redirect_uri, {"code": code, "state": request.state, "iss": issuer})
