"""The browser ledger verifier under test: a page that loads it, and the Python verifier's verdicts.

`ledger-verify.js` is served as the dashboard will serve it: same origin as the page, from auth's
static folder. Each check runs the script in Debian's chromium and compares the step it names
with the step where the Python verifier (`audit.verify`) stops on the same input.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from playwright.async_api import Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from audit.verify import (
    CheckpointError,
    FormatError,
    ProofError,
    load_public_key,
    parse_inclusion_response,
    public_keys_by_id,
    verify_inclusion,
    verify_inclusion_response,
)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "services/auth/src/auth/entrypoints/static/ledger-verify.js"
SCRIPT_PATH = "/static/ledger-verify.js"
LOADER_PATH = "/static/load.js"
PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ledger verifier</title>'
    f'<script type="module" src="{LOADER_PATH}"></script>'
    "</head><body><main><h1>Ledger verifier</h1></main></body></html>"
)
LOADER = f'import * as v from "{SCRIPT_PATH}"; window.ledgerVerify = v;\n'
# Runs in the page: hex strings in, Uint8Arrays to the script, its result back as plain JSON.
JS_HELPERS = """
const hex = (s) => Uint8Array.from(s.match(/../g) || [], (h) => parseInt(h, 16));
const plain = (r) => ({ ok: r.ok, step: r.step, reason: r.reason });
"""


def verifier_site(connect_src: list[str] | None = None) -> Starlette:
    """A page that imports the script as a module (window.ledgerVerify), and the script.

    The page has the strict policy a dashboard page would: scripts from its own origin only
    (no inline script, no eval), fetches only to `connect_src` (read at each request, so a
    test can add the audit's origin once it runs).
    """
    allowed = connect_src if connect_src is not None else []

    async def page(_: Request) -> Response:
        policy = (
            "default-src 'none'; script-src 'self'; "
            f"connect-src {' '.join(allowed) or chr(39) + 'none' + chr(39)}; "
            "style-src 'unsafe-inline'; frame-ancestors 'none'"
        )
        return HTMLResponse(PAGE, headers={"Content-Security-Policy": policy})

    async def script(_: Request) -> Response:
        return Response(SCRIPT.read_bytes(), media_type="text/javascript")

    async def loader(_: Request) -> Response:
        return Response(LOADER, media_type="text/javascript")

    routes = [Route("/", page), Route(SCRIPT_PATH, script), Route(LOADER_PATH, loader)]
    return Starlette(routes=routes)


async def open_verifier(page: Page, site: str) -> None:
    """Open the page and wait until the module has loaded."""
    await page.goto(f"{site}/")
    await page.wait_for_function("window.ledgerVerify !== undefined")


async def in_page(page: Page, body: str, arg: Any = None) -> Any:
    """Run `body` (statements using `v`, the module, and `arg`; it returns) in the page."""
    return await page.evaluate(
        f"async (arg) => {{ const v = window.ledgerVerify; {JS_HELPERS} {body} }}", arg
    )


def python_step(error: Exception | None) -> str | None:
    """The step (in the script's names) where the Python verifier stopped; None if it passed."""
    if error is None:
        return None
    message = str(error)
    if isinstance(error, FormatError):
        return "format"
    if isinstance(error, CheckpointError):
        steps = {
            "unknown key id": "key",
            "has another key id": "key",
            "signature does not verify": "signature",
            "does not cover shard": "shard",
        }
    elif isinstance(error, ProofError):
        steps = {
            "entry.leaf_hash is not": "leaf",
            "does not lead to the expected root": "root",
            "": "proof",  # the path does not fit the index and tree size
        }
    else:
        raise error
    return next(step for part, step in steps.items() if part in message)


def python_inclusion_step(
    *, leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> str | None:
    """Where verify_inclusion stops on these arguments (None: it accepts them)."""
    try:
        verify_inclusion(leaf_hash=leaf, index=index, tree_size=size, proof=proof, root=root)
    except ProofError as exc:
        return python_step(exc)
    return None


def keys_of(document: Mapping[str, Any]) -> dict[str, Any]:
    """The Python verifier's key map from a `GET /ledger/keys` body."""
    return public_keys_by_id(load_public_key(k["public_key"].encode()) for k in document["keys"])


def python_entry_step(response: object, keys: Mapping[str, Any]) -> str | None:
    """Where the Python verifier stops on an entry response (None: it verifies)."""
    try:
        parsed = parse_inclusion_response(json.loads(json.dumps(response)))
        verify_inclusion_response(response=parsed, public_keys=public_keys_by_id(keys.values()))
    except (FormatError, ProofError, CheckpointError) as exc:
        return python_step(exc)
    return None


async def js_entry_steps(
    page: Page, responses: Sequence[object], keys: object
) -> list[dict[str, Any]]:
    """verifyEntry's result ({ok, step, reason}) for each response, run in the page."""
    result: list[dict[str, Any]] = await in_page(
        page,
        "const out = [];"
        " for (const r of arg.responses) out.push(plain(await v.verifyEntry(r, arg.keys)));"
        " return out;",
        {"responses": responses, "keys": keys},
    )
    return result


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)
