#!/usr/bin/env python3
"""Write (or `--check`) each service's AsyncAPI document, services/<name>/asyncapi.json.

FastStream generates it from the subscribers each service registers and the publications it
declares; run inside the uv environment: `uv run python scripts/asyncapi.py`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("auth", "consent", "sound", "audit")


def document(service: str) -> dict[str, Any]:
    """The service's AsyncAPI document, built without connecting to anything."""
    config = importlib.import_module(f"{service}.config")
    main = importlib.import_module(f"{service}.main")
    settings = getattr(config, f"{service.capitalize()}Settings")(
        environment="development", kafka_bootstrap_servers="kafka:9092"
    )
    app = main.create_app(settings)
    doc: dict[str, Any] = main.asyncapi(app.state.container)
    return doc


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a committed file is stale")
    args = parser.parse_args()
    stale = []
    for service in SERVICES:
        path = ROOT / "services" / service / "asyncapi.json"
        text = render(document(service))
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.write_text(text)
    for name in stale:
        sys.stderr.write(f"{name} is stale: run `make docs`\n")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
